#!/usr/bin/env python3
"""Trains bluelm-vl-nano on an accelerator in one invocation: stage 1 (reading) and then the
grounding stages end to end, the vision tower included (at --tower-lr), with every sample drawn
fresh by DataLoader worker processes from the generators (gen_reading.Reader, grounding_data),
so the pool's windows are seen under ever new crops, grids and colours. The CPU path of the same
stages (train_reading.py, cache_features.py + train_grounding.py) stays for machines without one.

--schedule names the phases and their minutes, e.g. "reading:2,easy:1,t4:2,t9:3":
  reading   the tower and the per-patch character head alone (train_reading's objective)
  easy      grounding, 1-tile crops, targets at least 20 px high
  t4, t9    grounding, crops of up to 4 / 9 tiles; t9 adds 15 % composed whole screens
  screens   grounding, half whole screens, half crops of up to 9 tiles
  whole     grounding, half whole pool windows at their own grids, half crops of up to 9 tiles,
            80 % of the samples with their labels redrawn as new words (fresh_words.py)
Grounding loss: answer tokens + --dense-weight x dense BCE (train_grounding.DenseHead) +
--reading-aux x the reading loss on a small reading batch every --aux-every steps, so the tower
keeps reading. The curve's data_wait is the share of a step spent waiting for either loader.
Learning rate: linear warm-up, then a cosine to a tenth over the whole grounding time.

In: --init (a train_reading.py checkpoint, a folder this script wrote, or an exported model such
as Models/bluelm-vl-nano with the heads of training/init/heads.safetensors), the pool, the
tokenizer. Out (--out): device_vision.pt (tower, adapter, reading and dense heads, config) and
device_language.pt (decoder), each under 16 MiB; curve.tsv; heldout.json (Python greedy answers
on the held-out sets). `export.py --checkpoint OUT` exports the pair.

Usage: training/train_device.py --out DIR [--schedule S] [--init PATH] [--pool DIR] [--tokenizer F]
       [--device cuda|cpu] [--workers N] [--batch B] [--reading-batch B] [--heldout DIR ...]
"""
import argparse
import functools
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, common.TORCH_PACKAGES)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

import gen_reading  # noqa: E402
import grounding_data as gd  # noqa: E402
import model as nano  # noqa: E402
import tokenizer as nano_tok  # noqa: E402
from train_grounding import DenseHead, parse_point  # noqa: E402
from train_reading import CLASSES  # noqa: E402

CURRICULA = {"easy": gd.Curriculum(max_tiles=1, min_height=20, jitter=0.2),
             "t4": gd.Curriculum(max_tiles=4, jitter=0.2),
             "t9": gd.Curriculum(max_tiles=9, screens=0.15, jitter=0.2),
             "screens": gd.Curriculum(max_tiles=9, screens=0.5, jitter=0.2),
             # half whole windows at their own grids, most labels redrawn (README: Where the gap is)
             "whole": gd.Curriculum(max_tiles=9, whole=0.5, fresh=0.8, jitter=0.2)}
T = nano.ANYRES["tile_size"]
HEADS = os.path.join(HERE, "init", "heads.safetensors")  # the training-only heads of the committed model


# MARK: - Data (worker processes)

class ReadingTiles(torch.utils.data.Dataset):
    """Reading tiles start .. start+n-1 of a seed: (uint8 (T, T, 3), targets (g*g, SLOTS))."""

    def __init__(self, seed, start, n):
        self.seed, self.start, self.n, self.reader = seed, start, n, None

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if self.reader is None:
            self.reader = gen_reading.Reader("train")
        img, chars = self.reader.tile(self.seed, self.start + i)
        return torch.from_numpy(img), torch.from_numpy(chars.astype(np.int64)).flatten(0, 1)


class GroundingSamples(torch.utils.data.Dataset):
    """Grounding samples start .. start+n-1 of a seed and curriculum, pixels as uint8."""

    def __init__(self, tokenizer_path, pool, seed, curriculum, start, n):
        self.args, self.start, self.n, self.data = (tokenizer_path, pool, seed, curriculum), start, n, None

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if self.data is None:
            path, pool, seed, cur = self.args
            self.data = gd.GroundingData(Tokenizer.from_file(path), pool, "train", seed, cur)
        s = self.data.sample(self.start + i, pixels="uint8")
        return {k: s[k] for k in ("tiles", "valid", "input_ids", "answer_ids", "dense", "positions")}


def collate_grounding(items, eos=0):
    """Tiles (N, T, T, 3) uint8 and valid (N, 2) in batch order; right-padded ids, labels (answer
    tokens only), mask (B, n); the last prompt position per sample; dense targets concatenated."""
    seqs = [m["input_ids"] + m["answer_ids"] for m in items]
    n = max(len(s) for s in seqs)
    ids = torch.full((len(items), n), eos, dtype=torch.long)
    labels = torch.full((len(items), n), -100, dtype=torch.long)
    mask = torch.zeros((len(items), n), dtype=torch.long)
    for b, (m, s) in enumerate(zip(items, seqs)):
        ids[b, :len(s)] = torch.tensor(s)
        labels[b, len(m["input_ids"]):len(s)] = torch.tensor(m["answer_ids"])
        mask[b, :len(s)] = 1
    return {"tiles": torch.from_numpy(np.concatenate([m["tiles"] for m in items])),
            "valid": torch.from_numpy(np.concatenate([m["valid"] for m in items])),
            "ids": ids, "labels": labels, "mask": mask,
            "last": torch.tensor([len(m["input_ids"]) - 1 for m in items]),
            "dense": torch.from_numpy(np.concatenate([m["dense"] for m in items]).astype(np.float32)),
            "positions": torch.from_numpy(np.concatenate([m["positions"] for m in items]))}


def loader(dataset, batch, workers, collate=None):
    return torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=False, num_workers=workers,
                                       collate_fn=collate, prefetch_factor=4 if workers else None,
                                       persistent_workers=False, pin_memory=torch.cuda.is_available())


# MARK: - Model

class Trainee(nn.Module):
    """The nano model with the training-only heads: reading (per patch) and dense (per image token)."""

    def __init__(self, vocab_size):
        super().__init__()
        self.net = nano.BlueLMNano(nano.nano_config(vocab_size))
        self.reading_head = nn.Linear(nano.VISION["hidden_size"], gen_reading.SLOTS * CLASSES)
        self.dense_head = DenseHead(nano.TEXT["hidden_size"])
        self.position_head = nn.Linear(nano.TEXT["hidden_size"], 2)

    def read(self, pixels):
        feats = self.net.vision(pixel_values=pixels).last_hidden_state        # (B, g*g, D_v)
        return self.reading_head(feats).unflatten(-1, (gen_reading.SLOTS, CLASSES))

    def ground(self, ids, pixels, mask, pad_id):
        """(LM output with hidden states, dense logits (image tokens,) in row-major batch order)."""
        embeds = self.net.embed(ids, pixels, pad_id)                              # (B, n, D_lm)
        out = self.net.language_model(inputs_embeds=embeds, attention_mask=mask, output_hidden_states=True)
        hidden = out.hidden_states[-1]                                            # (B, n, D_lm)
        return out, hidden


def to_pixels(u8, valid, device):
    """uint8 (N, T, T, 3) + valid (N, 2) -> normalised (N, 3, T, T) on device, zero outside the image
    (tile_tensor's padding)."""
    x = u8.to(device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255).sub_(0.5).div_(0.5)
    r = torch.arange(T, device=device)
    v = valid.to(device)
    inside = (r[None, :, None] < v[:, 0, None, None]) & (r[None, None, :] < v[:, 1, None, None])  # (N, T, T)
    return x * inside[:, None]


def reading_loss(logits, y, blank_weight=0.2):
    weight = torch.ones(CLASSES, device=logits.device)
    weight[0] = blank_weight
    loss = F.cross_entropy(logits.flatten(0, 2).float(), y.flatten(), weight=weight)
    filled = y > 0
    return loss, (logits.argmax(-1)[filled] == y[filled]).float().mean()


def pointer_attention(lm, hidden_in, layer, head, queries):
    """The attention weights of one decoder head, recomputed from its layer's input for a few
    query positions only: hidden_in (B, n, D) the layer's input (hidden_states[layer]), queries
    (B, m) positions -> (B, m, n) softmax weights over the keys at or before each query (RoPE,
    causal, as the model's own attention; padding lies after every query)."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb
    block = lm.model.layers[layer]
    attn = block.self_attn
    x = block.input_layernorm(hidden_in)                                          # (B, n, D)
    B, n, _ = x.shape
    hd = attn.head_dim
    kv = head // attn.num_key_value_groups
    q = F.linear(x, attn.q_proj.weight[head * hd:(head + 1) * hd])                # (B, n, hd)
    k = F.linear(x, attn.k_proj.weight[kv * hd:(kv + 1) * hd])                    # (B, n, hd)
    pos = torch.arange(n, device=x.device).unsqueeze(0)
    cos, sin = lm.model.rotary_emb(x, position_ids=pos)
    q, k = apply_rotary_pos_emb(q.unsqueeze(1), k.unsqueeze(1), cos, sin)          # (B, 1, n, hd)
    q = q[:, 0].gather(1, queries.unsqueeze(-1).expand(-1, -1, hd))                # (B, m, hd)
    scores = (q @ k[:, 0].transpose(1, 2)).float() * attn.scaling                # (B, m, n)
    causal = torch.arange(n, device=x.device)[None, None, :] > queries[:, :, None]
    return scores.masked_fill(causal, float("-inf")).softmax(-1)


def grounding_losses(model, batch, pad_id, device, pos_weight=5.0, position_layer=2, pointer_layer=2):
    """(answer LM loss, dense BCE, position MSE). The position objective: a linear probe on the
    decoder's hidden state after `position_layer` layers predicts each image token's place in the
    image (grounding_data.token_positions). Tiles are encoded independently and RoPE is relative,
    so no image token knows which tile it lies in unless the decoder works it out from the layout;
    this teaches it early, and the answer tokens then only have to find and copy it."""
    ids, mask = batch["ids"].to(device), batch["mask"].to(device)
    labels = batch["labels"].to(device)
    out, hidden = model.ground(ids, to_pixels(batch["tiles"], batch["valid"], device), mask, pad_id)
    logits = out.logits[:, :-1].float()
    lm = F.cross_entropy(logits.flatten(0, 1), labels[:, 1:].flatten(), ignore_index=-100)
    head = model.dense_head
    q = head.q(hidden[torch.arange(ids.shape[0], device=device), batch["last"].to(device)])  # (B, d)
    k = head.k(hidden)                                                                       # (B, n, d)
    dense_logits = (k @ q.unsqueeze(-1)).squeeze(-1) / math.sqrt(head.d) + head.bias         # (B, n)
    image = ids == pad_id
    dense = F.binary_cross_entropy_with_logits(dense_logits[image].float(), batch["dense"].to(device),
                                               pos_weight=torch.tensor(pos_weight, device=device))
    where = model.position_head(out.hidden_states[position_layer][image]).float()            # (image tokens, 2)
    position = F.mse_loss(where, batch["positions"].to(device))
    # The pointer: head 0 of `pointer_layer`, at the last prompt token and every answer position,
    # should attend to the target's image tokens; its values then carry their positions to the answer.
    answer_len = int((labels != -100).sum(1).max())
    queries = batch["last"].to(device)[:, None] + torch.arange(answer_len, device=device)[None, :]   # (B, m)
    queries = queries.clamp(max=ids.shape[1] - 1)
    weights = pointer_attention(model.net.language_model, out.hidden_states[pointer_layer], pointer_layer, 0, queries)
    target = torch.zeros(ids.shape, device=device)
    target[image] = batch["dense"].to(device)                                                 # (B, n)
    mass = (weights * target[:, None, :]).sum(-1).clamp_min(1e-6)                              # (B, m)
    pointer = -mass.log().mean()
    return lm, dense, position, pointer


# MARK: - Checkpoints

def save_heads(model, path=HEADS):
    """The training-only heads (reading, dense, position) in float16: with the exported model they
    let a later run continue where this one stopped (--init Models/bluelm-vl-nano)."""
    from safetensors.torch import save_file
    os.makedirs(os.path.dirname(path), exist_ok=True)
    heads = {k: v.detach().half().contiguous() for k, v in model.state_dict().items() if not k.startswith("net.")}
    save_file(heads, path)


def save(model, out, meta):
    """Two files under 16 MiB each: what an accelerator run may hand back."""
    sd = model.state_dict()
    vision = {k: v for k, v in sd.items() if not k.startswith("net.language_model.")}
    language = {k: v for k, v in sd.items() if k.startswith("net.language_model.")}
    for name, part in (("device_vision.pt", {"model": vision, "config": model.net.config, **meta}),
                       ("device_language.pt", {"model": language})):
        torch.save(part, os.path.join(out, name + ".tmp"))
        os.replace(os.path.join(out, name + ".tmp"), os.path.join(out, name))


def load_into(model, path):
    """Initialises from a folder this script wrote, or from a train_reading.py checkpoint
    (tower + reading head only). Returns the folder's meta, or {}."""
    if os.path.exists(os.path.join(path, "model.safetensors")):
        # An exported model (Models/bluelm-vl-nano): the format's tensors, plus the training-only
        # heads saved beside the learning curves (HEADS), when there.
        from safetensors.torch import load_file
        model.net.load_checkpoint_tensors(load_file(os.path.join(path, "model.safetensors")))
        with open(os.path.join(path, "config.json")) as f:
            model.net.config = json.load(f)  # keeps what the model was trained with (prompt_template)
        if os.path.exists(HEADS):
            heads = {k: v.float() for k, v in load_file(HEADS).items()}
            missing, unexpected = model.load_state_dict(heads, strict=False)
            if unexpected:
                raise SystemExit(f"train_device: {HEADS} has unknown tensors {unexpected[:3]}")
        return {}
    if os.path.isdir(path):
        vis = torch.load(os.path.join(path, "device_vision.pt"), map_location="cpu", weights_only=True)
        lang = torch.load(os.path.join(path, "device_language.pt"), map_location="cpu", weights_only=True)
        missing, unexpected = model.load_state_dict({**vis["model"], **lang["model"]}, strict=False)
        new = [k for k in missing if not k.startswith("position_head.")]  # heads added since may start fresh
        if new or unexpected:
            raise SystemExit(f"train_device: {path} does not fit the model: missing {new[:3]}, unexpected {unexpected[:3]}")
        return {k: v for k, v in vis.items() if k not in ("model", "config")}
    state = torch.load(path, map_location="cpu", weights_only=True)["model"]
    model.net.vision.load_state_dict({k[len("vision."):]: v for k, v in state.items() if k.startswith("vision.")})
    model.reading_head.load_state_dict({k[len("head."):]: v for k, v in state.items() if k.startswith("head.")})
    return {}


def exported(path):
    """(tokenizer, Trainee in eval mode) of an exported model folder (Models/bluelm-vl-nano)."""
    tok = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
    model = Trainee(tok.get_vocab_size())
    load_into(model, path)
    return tok, model.eval()


# MARK: - Evaluation

@torch.no_grad()
def heldout_eval(model, tok, folder, device, limit=0, steps=12, template=None):
    """Greedy answers (KV cache) on a ScreenSpot-format folder: (hits, n, per-sample records).
    The prompt follows `template`, else the model config's prompt_template, else image first."""
    template = template or model.net.config.get("prompt_template", gd.IMAGE_FIRST)
    name = next(f for f in sorted(os.listdir(folder)) if f.startswith("screenspot_") and f.endswith(".json"))
    images, samples = gd.heldout_samples(tok, folder, name)
    samples = samples[::max(1, len(samples) // limit)][:limit] if limit else samples
    pad_id, eos = tok.token_to_id(nano_tok.TOKENS["image_pad"]), tok.token_to_id(nano_tok.TOKENS["eos"])
    lm, hits, records = model.net.language_model, 0, []
    model.eval()
    feats = {}
    for s in samples:
        tiles, grid, thumb, size = images[s["img_filename"]]
        if s["img_filename"] not in feats:
            px = torch.from_numpy(tiles).to(device)
            feats[s["img_filename"]] = model.net.vision(pixel_values=px).last_hidden_state
        ids = torch.tensor([gd.prompt_ids(tok, s["instruction"], grid, thumb, template)], device=device)
        out = lm(inputs_embeds=model.net.embed_features(ids, feats[s["img_filename"]], pad_id), use_cache=True)
        tokens = []
        for _ in range(steps):
            t = int(out.logits[0, -1].argmax())
            if t == eos:
                break
            tokens.append(t)
            out = lm(input_ids=torch.tensor([[t]], device=device), past_key_values=out.past_key_values, use_cache=True)
        text = tok.decode(tokens, skip_special_tokens=False)
        point = parse_point(text, size)
        x, y, w, h = s["bbox"]
        hit = point is not None and x <= point[0] <= x + w and y <= point[1] <= y + h
        hits += hit
        records.append({"img_filename": s["img_filename"], "instruction": s["instruction"], "answer": text, "hit": hit})
    model.train()
    return hits, len(samples), records


# MARK: - Training

def parse_schedule(text):
    phases = []
    for part in text.split(","):
        name, _, minutes = part.partition(":")
        if name != "reading" and name not in CURRICULA:
            raise SystemExit(f"train_device: unknown phase {name!r} (reading, {', '.join(CURRICULA)})")
        phases.append((name, float(minutes)))
    return phases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--schedule", default="reading:2,easy:1,t4:2.5,t9:3")
    ap.add_argument("--init", help="train_reading.py checkpoint, a folder this script wrote, or an exported model")
    ap.add_argument("--save-heads", action="store_true",
                    help=f"also write the training-only heads to {os.path.relpath(HEADS, os.path.dirname(HERE))}")
    ap.add_argument("--pool", default=gd.POOL)
    ap.add_argument("--tokenizer", default=os.path.join(nano_tok.CACHE, "tokenizer.json"))
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 6),
                    help="worker processes drawing grounding samples (and reading tiles in the reading phase)")
    ap.add_argument("--batch", type=int, default=32, help="grounding samples a step")
    ap.add_argument("--reading-batch", type=int, default=256, help="reading tiles a step (reading phase)")
    ap.add_argument("--aux-batch", type=int, default=16, help="reading tiles of a reading-aux batch")
    ap.add_argument("--aux-every", type=int, default=4, help="a reading-aux batch every N grounding steps")
    ap.add_argument("--aux-workers", type=int, default=4, help="worker processes drawing reading-aux tiles")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--tower-lr", type=float, default=3e-4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--dense-weight", type=float, default=1.0)
    ap.add_argument("--reading-aux", type=float, default=0.2)
    ap.add_argument("--position-weight", type=float, default=1.0)
    ap.add_argument("--pointer-weight", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--heldout", nargs="*", default=[os.path.join(HERE, "heldout")])
    ap.add_argument("--eval-limit", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    dev = torch.device(args.device)
    torch.set_num_threads(2)  # the main process only feeds the accelerator: leave the cores to the workers
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if dev.type == "cuda" else torch.autocast("cpu", enabled=False)
    tok = Tokenizer.from_file(args.tokenizer)
    pad_id, eos = tok.token_to_id(nano_tok.TOKENS["image_pad"]), tok.token_to_id(nano_tok.TOKENS["eos"])
    torch.manual_seed(args.seed)
    model = Trainee(tok.get_vocab_size())
    meta = load_into(model, args.init) if args.init else {}
    model.to(dev).train()
    tower = [p for n, p in model.named_parameters() if n.startswith("net.vision.") or n.startswith("reading_head.")]
    rest = [p for n, p in model.named_parameters() if not (n.startswith("net.vision.") or n.startswith("reading_head."))]
    phases = parse_schedule(args.schedule)
    ground_total = sum(m for n, m in phases if n != "reading") * 60
    counters = {"reading_tiles": meta.get("reading_tiles", 0), "samples": meta.get("samples", 0),
                "step": meta.get("step", 0)}
    curve = os.path.join(args.out, "curve.tsv")
    if not os.path.exists(curve):
        with open(curve, "w") as f:
            f.write("phase\tstep\treading_tiles\tsamples\treading_loss\tchar_acc\tlm\tdense\tposition\t"
                    "pointer\tdata_wait\tseconds\tsamples_per_s\n")
    print(f"train_device: {args.device}, {args.workers} workers, schedule {phases}, init {args.init}", flush=True)
    t_start, ground_done, gstep = time.time(), 0.0, 0
    opt_ground = torch.optim.AdamW([{"params": rest, "lr": args.lr, "base": args.lr},
                                    {"params": tower, "lr": args.tower_lr, "base": args.tower_lr}], weight_decay=0.01)

    def log(phase, recent, rate):
        m = np.nanmean(recent, axis=0) if recent else [float("nan")] * 7
        line = (f"{phase}\t{counters['step']}\t{counters['reading_tiles']}\t{counters['samples']}\t"
                + "\t".join(f"{v:.4f}" for v in m) + f"\t{time.time() - t_start:.0f}\t{rate:.1f}")
        with open(curve, "a") as f:
            f.write(line + "\n")
        print("train_device: " + line.replace("\t", " "), flush=True)

    for phase, minutes in phases:
        t0, recent, seen = time.time(), [], 0
        if phase == "reading":
            opt = torch.optim.AdamW(tower, lr=args.lr, weight_decay=0.01)
            data = loader(ReadingTiles(args.seed, counters["reading_tiles"], 10**9), args.reading_batch, args.workers)
            t_ready = time.time()
            for step, (x, y) in enumerate(data):
                wait = time.time() - t_ready
                if time.time() - t0 > minutes * 60:
                    break
                for g in opt.param_groups:
                    g["lr"] = args.lr * min(1.0, (step + 1) / args.warmup)
                with amp:
                    loss, acc = reading_loss(model.read(to_pixels(x, torch.full((len(x), 2), T), dev)), y.to(dev))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(tower, 1.0)
                opt.step()
                counters["reading_tiles"] += len(x)
                seen += len(x)
                recent.append((loss.item(), acc.item(), float("nan"), float("nan"), float("nan"), float("nan"),
                               wait / (time.time() - t_ready)))
                t_ready = time.time()
                if (step + 1) % args.log_every == 0:
                    log(phase, recent, seen / (time.time() - t0))
                    recent = []
            del data
            continue
        samples = GroundingSamples(args.tokenizer, args.pool, args.seed, CURRICULA[phase], counters["samples"], 10**9)
        data = loader(samples, args.batch, args.workers, functools.partial(collate_grounding, eos=eos))
        # Reading tiles are slow to draw: on the accelerator's machine 2 workers at 32 tiles a step
        # most likely held the whole loop to 3 steps/s (curves/device-run*.tsv; README).
        aux = iter(loader(ReadingTiles(args.seed + 1, counters["reading_tiles"], 10**9), args.aux_batch,
                          args.aux_workers)) if args.reading_aux else None
        opt = opt_ground
        t_ready = time.time()
        for step, batch in enumerate(data):
            wait = time.time() - t_ready
            elapsed = time.time() - t0
            if elapsed > minutes * 60:
                break
            frac = min(1.0, (ground_done + elapsed) / ground_total)
            gstep += 1
            for g in opt.param_groups:
                g["lr"] = g["base"] * min(1.0, gstep / args.warmup) * (0.1 + 0.45 * (1 + math.cos(math.pi * frac)))
            with amp:
                lm, dense, position, pointer = grounding_losses(model, batch, pad_id, dev)
                loss = lm + args.dense_weight * dense + args.position_weight * position + args.pointer_weight * pointer
                rl, acc = (torch.full((), float("nan")), torch.full((), float("nan")))
                if aux is not None and gstep % args.aux_every == 0:
                    t_aux = time.time()
                    x, y = next(aux)
                    wait += time.time() - t_aux
                    rl, acc = reading_loss(model.read(to_pixels(x, torch.full((len(x), 2), T), dev)), y.to(dev))
                    loss = loss + args.reading_aux * rl
                    counters["reading_tiles"] += len(x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            counters["samples"] += args.batch
            counters["step"] += 1
            seen += args.batch
            recent.append((rl.item(), float(acc), lm.item(), dense.item(), position.item(), pointer.item(),
                           wait / (time.time() - t_ready)))
            t_ready = time.time()
            if (step + 1) % args.log_every == 0:
                log(phase, recent, seen / (time.time() - t0))
                recent = []
        ground_done += min(time.time() - t0, minutes * 60)
        del data, aux
        save(model, args.out, counters)
    save(model, args.out, counters)
    if args.save_heads:
        save_heads(model)
    results = {}
    for folder in args.heldout:
        if not os.path.isdir(folder):
            continue
        t0 = time.time()
        hits, n, records = heldout_eval(model, tok, folder, dev, args.eval_limit)
        results[os.path.basename(folder.rstrip("/"))] = {"hits": hits, "n": n, "records": records}
        print(f"train_device: held-out {folder}: {hits}/{n} ({100 * hits / max(1, n):.1f} %) "
              f"in {time.time() - t0:.0f} s; e.g. {[r['answer'] for r in records[:4]]}", flush=True)
    with open(os.path.join(args.out, "heldout.json"), "w") as f:
        json.dump(results, f)
    print(f"train_device: done in {time.time() - t_start:.0f} s -> {args.out}", flush=True)


if __name__ == "__main__":
    main()
