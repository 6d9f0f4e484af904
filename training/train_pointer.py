#!/usr/bin/env python3
"""Grounding, pointer formulation: trains adapter + decoder of bluelm-vl-nano on cached features
of the frozen vision tower (cache_features.py), with three changes against train_grounding.py
that each remove something the small decoder failed to learn there (training/README.md,
"Where it stands"):

1. The instruction comes before the image (prompt template `{instruction}<|image_pad|>`,
   written into config.json as `prompt_template`). Every image token can then attend to the
   instruction and decide by itself whether it shows the named text; the answer only has to
   find the tokens that said yes.
2. The tokenizer spells the instruction one character a token and has one token for every
   number 0-999 (tokenizer.build_numbers): a held-out word is made of the same pieces as a
   training word, and a coordinate is one ordered choice instead of three digits.
3. The coordinate loss is the probability of hitting the box: -log of the softmax mass on the
   numbers inside the inner part of the box (per axis, y after the true x), plus a small
   cross-entropy on the exact center. Nearby numbers learn together, and the loss asks for
   what the evaluator counts.

Beside the answer, on the decoder's input to its last layer: a dense head (does this image
token show the target, BCE), a position probe (the image token's place in the image, MSE) and a
supervised pointer (head 0 of the last layer, at the positions that predict x and y, puts its
attention on the target's tokens). The heads are training only and not exported.

Deterministic given --seed and the caches: batch b of a phase takes cached samples
(k*B .. k*B+B-1) mod N of its cache, k counting that cache's batches. Resumable: the checkpoint
(pointer/pointer.pt) holds the model, heads, optimizer and step.

Usage: training/train_pointer.py --schedule v2-t1:1000,v2-t4+v2-t9:2500 [--minutes M] [--batch B]
       [--lr LR] [--init MODEL_DIR | --from CKPT] [--eval-every N] [--export DIR] [--selftest]
       training/train_pointer.py --from CKPT --probe CACHE[,CACHE...] [--probe-n N]
"""
import argparse
import json
import math
import os
import random
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

import export  # noqa: E402
import grounding_data  # noqa: E402
import model as nano  # noqa: E402
import tokenizer as nano_tok  # noqa: E402
from train_device import pointer_attention  # noqa: E402
from train_grounding import FeatureCache, model_ref, parse_point, python_eval, spread  # noqa: E402

CACHE = os.path.expanduser("~/.cache/gui-agent/training")
TOKENIZER = os.path.join(CACHE, "tokenizer-numbers.json")
TEMPLATE = "{instruction}" + nano_tok.TOKENS["image_pad"]
SHRINK = 0.6  # the share of the box (per axis, around its center) whose numbers count as the target


def pointer_config(vocab_size):
    return {**nano.nano_config(vocab_size), "prompt_template": TEMPLATE}


# MARK: - Samples

def number_range(lo, extent, size):
    """The norm1000 values v whose pixel v * size / 1000 lies in the inner SHRINK of [lo, lo + extent],
    always holding the center's value."""
    c, half = lo + extent / 2, extent * SHRINK / 2
    a = max(0, math.ceil(1000 * (c - half) / size))
    b = min(999, math.floor(1000 * (c + half) / size))
    center = grounding_data.norm1000(c, size)
    return min(a, center), max(b, center), center


def encode(tok, meta):
    """(prompt ids, answer ids, (x range), (y range), positions) of a cached sample."""
    W, H = meta["crop"][2], meta["crop"][3]
    bx, by, bw, bh = meta["box"]
    xr, yr = number_range(bx, bw, W), number_range(by, bh, H)
    ids = grounding_data.prompt_ids(tok, meta["instruction"], meta["grid"], meta["thumb"], TEMPLATE)
    answer = tok.encode(f"({xr[2]},{yr[2]})", add_special_tokens=False).ids + [tok.token_to_id(nano_tok.TOKENS["eos"])]
    if len(answer) != 6:  # the losses index "(", x, ",", y, ")", eos by position
        raise SystemExit(f"train_pointer: the tokenizer splits ({xr[2]},{yr[2]}) into {len(answer) - 1} tokens, "
                         "not 5: use tokenizer.build_numbers")
    positions = grounding_data.token_positions(W, H, meta["grid"], meta["thumb"])
    return ids, answer, xr, yr, positions


def collate(tok, items):
    eos = tok.token_to_id(nano_tok.TOKENS["eos"])
    enc = [encode(tok, m) for m, _ in items]
    seqs = [p + a for p, a, *_ in enc]
    n = max(len(s) for s in seqs)
    B = len(items)
    ids = torch.full((B, n), eos, dtype=torch.long)
    mask = torch.zeros((B, n), dtype=torch.long)
    for b, s in enumerate(seqs):
        ids[b, :len(s)] = torch.tensor(s)
        mask[b, :len(s)] = 1
    P = torch.tensor([len(p) for p, *_ in enc])                     # position of "(" in each sequence
    ranges = torch.tensor([[xr[0], xr[1], xr[2], yr[0], yr[1], yr[2]] for _, _, xr, yr, _ in enc])
    return {"ids": ids, "mask": mask, "P": P, "ranges": ranges,
            "feats": torch.cat([f for _, f in items]),
            "dense": torch.cat([torch.tensor(m["dense"], dtype=torch.float32) for m, _ in items]),
            "positions": torch.from_numpy(np.concatenate([e[4] for e in enc]))}


# MARK: - Model

class Heads(nn.Module):
    """Training-only heads on the decoder's input to its last layer."""

    def __init__(self, d):
        super().__init__()
        self.dense = nn.Linear(d, 1)
        self.position = nn.Linear(d, 2)
        nn.init.constant_(self.dense.bias, -2.0)  # most image tokens are negatives


def number_ids(tok):
    return torch.tensor([tok.token_to_id(str(k)) for k in range(1000)])


def smooth_rows(n, d, generator, scale=0.02, freqs=8):
    """n rows that vary slowly with their index (low-frequency Fourier features): the starting
    point of the number tokens' embeddings, so that nearby numbers start alike."""
    k = torch.arange(n, dtype=torch.float32)[:, None] / n
    j = torch.arange(1, freqs + 1, dtype=torch.float32)[None, :]
    basis = torch.cat([torch.cos(math.pi * j * k), torch.sin(math.pi * j * k)], 1) / j.repeat(1, 2).sqrt()
    return basis @ torch.randn(2 * freqs, d, generator=generator) * scale


def initial_model(tok, init_dir, tower, seed):
    """The pointer model: the tower of the caches, adapter and decoder layers from `init_dir`
    (an exported nano model, either formulation) when given, embeddings of tokens both
    tokenizers share copied by their text, the number tokens smooth unless `init_dir` has them.
    The training-only heads start fresh."""
    torch.manual_seed(seed)
    net = nano.BlueLMNano(pointer_config(tok.get_vocab_size()))
    net.vision.load_state_dict(tower["vision"], strict=True)
    for p in net.vision.parameters():
        p.requires_grad_(False)
    lm = net.language_model
    gen = torch.Generator().manual_seed(seed)
    nums = number_ids(tok)
    with torch.no_grad():
        d = lm.config.hidden_size
        lm.model.embed_tokens.weight[nums] = smooth_rows(1000, d, gen)
        lm.lm_head.weight[nums] = smooth_rows(1000, d, gen)
    if init_dir:
        from safetensors.torch import load_file
        old_tok = Tokenizer.from_file(os.path.join(init_dir, "tokenizer.json"))
        with open(os.path.join(init_dir, "config.json")) as f:
            old = nano.BlueLMNano(json.load(f))
        old.load_checkpoint_tensors(load_file(os.path.join(init_dir, "model.safetensors")))
        state = {k: v for k, v in old.state_dict().items()
                 if not k.startswith("vision.") and "embed_tokens" not in k and "lm_head" not in k}
        net.load_state_dict(state, strict=False)
        # Digits are numbers here; in a digit-by-digit tokenizer they meant something else.
        numbers = all(old_tok.token_to_id(str(k)) is not None for k in range(1000))
        shared = [(i, old_tok.token_to_id(t)) for t, i in tok.get_vocab().items()
                  if old_tok.token_to_id(t) is not None and (numbers or not t.isdigit())]
        new_i, old_i = torch.tensor([a for a, _ in shared]), torch.tensor([b for _, b in shared])
        with torch.no_grad():
            for name in ("model.embed_tokens.weight", "lm_head.weight"):
                lm.get_parameter(name)[new_i] = old.language_model.get_parameter(name)[old_i]
        print(f"train_pointer: adapter and decoder from {init_dir}; {len(shared)} token rows shared")
    return net


def losses(net, heads, batch, pad_id, nums):
    """(answer, dense, position, pointer) losses of a batch."""
    ids, mask, P = batch["ids"], batch["mask"], batch["P"]
    B = ids.shape[0]
    lm = net.language_model
    embeds = net.embed_features(ids, batch["feats"], pad_id)
    out = lm.model(inputs_embeds=embeds, attention_mask=mask, output_hidden_states=True)
    rows = torch.arange(B)
    at = P[:, None] - 1 + torch.arange(6)[None, :]                              # (B, 6): "[|AI|]:" .. ")"
    logp = lm.lm_head(out.last_hidden_state[rows[:, None], at]).float().log_softmax(-1)  # (B, 6, V)
    # "(" from the last prompt token, "," after x, ")" after y, then eos.
    plain = torch.tensor([0, 2, 4, 5])
    targets = ids[rows[:, None], at[:, plain] + 1]
    answer = -logp[:, plain].gather(2, targets[..., None]).mean()
    r = batch["ranges"]
    k = torch.arange(1000)[None, :]
    for axis, j in ((0, 1), (3, 3)):
        num_logp = logp[:, j][:, nums]                                             # (B, 1000)
        inside = (k >= r[:, axis, None]) & (k <= r[:, axis + 1, None])
        hit = torch.logsumexp(num_logp.masked_fill(~inside, float("-inf")), 1)
        center = num_logp[rows, r[:, axis + 2]]
        answer = answer - (hit.mean() + 0.1 * center.mean()) / 2
    layer = len(lm.model.layers) - 1
    hidden = out.hidden_states[layer]                                          # input of the last layer
    image = ids == pad_id
    dense = F.binary_cross_entropy_with_logits(heads.dense(hidden[image]).squeeze(-1), batch["dense"],
                                               pos_weight=torch.tensor(5.0))
    position = F.mse_loss(heads.position(hidden[image]), batch["positions"])
    weights = pointer_attention(lm, hidden, layer, 0, torch.stack([P, P + 2], 1))  # (B, 2, n)
    target = torch.zeros(ids.shape)
    target[image] = batch["dense"]
    pointer = -(weights * target[:, None, :]).sum(-1).clamp_min(1e-6).log().mean()
    return answer, dense, position, pointer


def probe(net, heads, tok, items, pad_id, answers=False, margin=14):
    """(dense hits, answer hits or None, n) on items, each (instruction, grid, thumb, (W, H),
    box [x, y, w, h], features). The dense hit: the dense head's best image token has its cell
    center within `margin` pixels of the box, which shows whether the matching transfers before
    the coordinates do; the answer hit (greedy, with `answers`): the answered point in the box."""
    lm, layer = net.language_model, len(net.language_model.model.layers) - 1
    eos = tok.token_to_id(nano_tok.TOKENS["eos"])
    dense_hits, answer_hits = 0, 0
    net.eval()
    with torch.no_grad():
        for instruction, grid, thumb, (W, H), (x, y, w, h), feats in items:
            ids = torch.tensor([grounding_data.prompt_ids(tok, instruction, grid, thumb, TEMPLATE)])
            embeds = net.embed_features(ids, feats, pad_id)
            out = lm.model(inputs_embeds=embeds, output_hidden_states=True)
            scores = heads.dense(out.hidden_states[layer][0][ids[0] == pad_id]).squeeze(-1)
            fx, fy = grounding_data.token_positions(W, H, grid, thumb)[int(scores.argmax())]
            dense_hits += x - margin <= fx * W <= x + w + margin and y - margin <= fy * H <= y + h + margin
            if answers:
                tokens, _ = model_ref.greedy(lm, embeds, 10)
                tokens = tokens[:tokens.index(eos)] if eos in tokens else tokens
                point = parse_point(tok.decode(tokens, skip_special_tokens=False), (W, H))
                answer_hits += point is not None and x <= point[0] <= x + w and y <= point[1] <= y + h
    net.train()
    return dense_hits, (answer_hits if answers else None), len(items)


def heldout_items(cache):
    """The held-out samples of a cache as probe() items."""
    out = []
    for s in cache.heldout["samples"]:
        m, feats = cache.heldout_image(s["img_filename"])
        out.append((s["instruction"], m["grid"], m["thumb"], m["size"], s["bbox"], feats))
    return out


def cache_items(cache, n):
    """The first n samples of a cache as probe() items."""
    out = []
    for j in range(min(n, len(cache))):
        m, feats = cache.item(j)
        out.append((m["instruction"], m["grid"], m["thumb"], m["crop"][2:], m["box"], feats))
    return out


def grow_vocab(net, opt, state):
    """Lets a checkpoint of a smaller vocabulary continue with a tokenizer that appended tokens
    (the ids it has keep their meaning): its embedding and lm_head rows, and their AdamW moments,
    are extended with the new model's initial rows and zero moments."""
    own = net.state_dict()
    grown = {}
    for k in ("language_model.model.embed_tokens.weight", "language_model.lm_head.weight"):
        old, new = state["model"][k], own[k]
        if old.shape[0] < new.shape[0]:
            state["model"][k] = torch.cat([old, new[old.shape[0]:]])
            grown[old.shape] = new.shape
    for moments in state["optimizer"]["state"].values() if grown and opt else ():
        for name in ("exp_avg", "exp_avg_sq"):
            t = moments[name]
            if t.shape in grown:
                pad = torch.zeros((grown[t.shape][0] - t.shape[0],) + tuple(t.shape[1:]), dtype=t.dtype)
                moments[name] = torch.cat([t, pad])
    if grown:
        print(f"train_pointer: vocabulary grown to {own['language_model.lm_head.weight'].shape[0]} tokens")


# MARK: - Checks

def selftest(tok, cache, n=300, seed=0):
    """The encoding of `n` cached samples: every number of an axis' range lands inside the box as
    the engine maps it back (v * side / 1000), the range holds the center, the answer is exactly
    "(", x, ",", y, ")", eos with x and y number tokens, the image tokens match the dense target
    and the position targets, and the instruction comes before the image."""
    rng = random.Random(seed)
    nums = set(number_ids(tok).tolist())
    pad, start = tok.token_to_id(nano_tok.TOKENS["image_pad"]), tok.token_to_id(nano_tok.TOKENS["image_start"])
    for j in rng.sample(range(len(cache)), min(n, len(cache))):
        meta, _ = cache.item(j)
        ids, answer, xr, yr, positions = encode(tok, meta)
        W, H = meta["crop"][2], meta["crop"][3]
        bx, by, bw, bh = meta["box"]
        for (a, b, c), lo, extent, side in ((xr, bx, bw, W), (yr, by, bh, H)):
            assert a <= c <= b, (a, b, c)
            for v in (a, b):
                if v != c:  # the center's own value may round just outside a sub-pixel box
                    assert lo <= v * side / 1000 <= lo + extent, (v, lo, extent, side)
        assert len(answer) == 6 and answer[1] in nums and answer[3] in nums, tok.decode(answer)
        assert tok.decode([answer[1]]) == str(xr[2]) and tok.decode([answer[3]]) == str(yr[2])
        n_img = ids.count(pad)
        assert n_img == len(meta["dense"]) == len(positions), (n_img, len(meta["dense"]), len(positions))
        text = tok.decode(ids[:ids.index(start)], skip_special_tokens=False)
        assert meta["instruction"] in text, (meta["instruction"], text)
    print(f"train_pointer: selftest passed on {min(n, len(cache))} samples of {cache.folder}")


# MARK: - Training

def parse_schedule(text):
    """"v2-t1:1500,v2-t4+v2-t9:4000" -> [(["v2-t1"], 1500), (["v2-t4", "v2-t9"], 4000)] (cache folders, steps)."""
    out = []
    for part in text.split(","):
        names, steps = part.rsplit(":", 1)
        out.append((names.split("+"), int(steps)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schedule", default="v2-t1:1000,v2-t4+v2-t9:2500",
                    help="phases: cache folders under features/ (+ alternates them batch by batch) and steps")
    ap.add_argument("--features", default=os.path.join(CACHE, "features"))
    ap.add_argument("--tokenizer", default=TOKENIZER)
    ap.add_argument("--init", help="an exported nano model whose adapter and decoder layers start the run")
    ap.add_argument("--from", dest="start_from",
                    help="a pointer.pt whose model and heads start a new run (step 0, a fresh optimizer)")
    ap.add_argument("--minutes", type=float, default=170.0, help="stop (and save) after this long")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--dense-weight", type=float, default=1.0)
    ap.add_argument("--position-weight", type=float, default=10.0)
    ap.add_argument("--pointer-weight", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--eval-limit", type=int, default=73)
    ap.add_argument("--ckpt", default=os.path.join(CACHE, "pointer"))
    ap.add_argument("--curve", default=os.path.join(HERE, "curves", "pointer.tsv"))
    ap.add_argument("--export", help="export the final model to this folder")
    ap.add_argument("--probe", help="with --from: comma-separated caches (unseen samples) to probe, then stop")
    ap.add_argument("--probe-n", type=int, default=256, help="samples per probed cache")
    ap.add_argument("--selftest", action="store_true", help="check the encoding on the first phase's cache, then stop")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if not os.path.exists(args.tokenizer):
        nano_tok.build_numbers().save(args.tokenizer)
    tok = Tokenizer.from_file(args.tokenizer)
    pad_id, nums = tok.token_to_id(nano_tok.TOKENS["image_pad"]), number_ids(tok)
    phases = parse_schedule(args.schedule)
    first = FeatureCache(os.path.join(args.features, phases[0][0][0]))
    caches = {phases[0][0][0]: first}
    if args.selftest:
        return selftest(tok, first)
    if args.probe and not args.start_from:
        sys.exit("train_pointer: --probe needs --from CHECKPOINT")

    def cache_named(n):
        """A phase's cache, read when the phase first needs it (a later one may still be being written)."""
        if n not in caches:
            caches[n] = FeatureCache(os.path.join(args.features, n))
            if not all(torch.equal(caches[n].tower["vision"][k], v) for k, v in first.tower["vision"].items()):
                sys.exit(f"train_pointer: cache {n} was made with another tower than {phases[0][0][0]}")
            print(f"train_pointer: {len(caches[n])} samples in {n}")
        return caches[n]

    net = initial_model(tok, args.init, first.tower, args.seed)
    heads = Heads(net.config["text_config"]["hidden_size"])
    params = [p for p in net.parameters() if p.requires_grad] + list(heads.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    path, step = os.path.join(args.ckpt, "pointer.pt"), 0
    if os.path.exists(path) and not args.probe:  # a probe looks at --from only
        state = torch.load(path, map_location="cpu", weights_only=True)
        grow_vocab(net, opt, state)
        net.load_state_dict(state["model"])
        heads.load_state_dict(state["heads"])
        opt.load_state_dict(state["optimizer"])
        step = state["step"]
        print(f"train_pointer: resumed at step {step}")
    elif args.start_from:
        state = torch.load(args.start_from, map_location="cpu", weights_only=True)
        grow_vocab(net, None, state)
        net.load_state_dict(state["model"])
        heads.load_state_dict(state["heads"])
        print(f"train_pointer: model and heads from {args.start_from} (its step {state['step']}), a new run")
        if args.probe:
            for name in ["held-out"] + args.probe.split(","):
                items = heldout_items(first) if name == "held-out" else cache_items(cache_named(name), args.probe_n)
                hits, answer_hits, n = probe(net, heads, tok, items, pad_id, answers=True)
                print(f"train_pointer: probe {name}: dense head within 14 px {hits}/{n}, answer in box {answer_hits}/{n}")
            return
        hits, _, n = probe(net, heads, tok, heldout_items(first), pad_id)
        print(f"train_pointer: before training, dense head within 14 px on {hits}/{n} held-out samples", flush=True)
    os.makedirs(args.ckpt, exist_ok=True)
    if not os.path.exists(args.curve):
        with open(args.curve, "w") as f:
            f.write("step\tsamples\tphase\tanswer\tdense\tposition\tpointer\theldout_hits\theldout_n\tseconds"
                    "\tdense_hits\tdense_n\n")
    total = sum(s for _, s in phases)

    def save():
        torch.save({"model": net.state_dict(), "config": net.config, "heads": heads.state_dict(),
                    "optimizer": opt.state_dict(), "step": step, "schedule": args.schedule}, path + ".tmp")
        os.replace(path + ".tmp", path)

    def phase_of(s):
        end = 0
        for names, steps in phases:
            if s < end + steps:
                return names, s - end
            end += steps
        return None, None

    t0, recent, start = time.time(), [], step
    net.train()
    while step < total and time.time() - t0 < args.minutes * 60:
        names, local = phase_of(step)
        name = names[local % len(names)]
        cache, k = cache_named(name), local // len(names)
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / total)))
        for g in opt.param_groups:
            g["lr"] = lr
        batch = collate(tok, [cache.item((k * args.batch + j) % len(cache)) for j in range(args.batch)])
        answer, dense, position, pointer = losses(net, heads, batch, pad_id, nums)
        loss = answer + args.dense_weight * dense + args.position_weight * position + args.pointer_weight * pointer
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        recent.append([answer.item(), dense.item(), position.item(), pointer.item()])
        if step % 25 == 0:
            a = np.mean(recent[-25:], 0)
            print(f"step {step} {name}: answer {a[0]:.3f} dense {a[1]:.3f} position {a[2]:.4f} pointer {a[3]:.3f} "
                  f"lr {lr:.2e} {(step - start) * args.batch / (time.time() - t0):.1f} samples/s", flush=True)
        if step % args.eval_every == 0 or step == total:
            hits, n, answers = python_eval(net, tok, first, spread(first.heldout["samples"], args.eval_limit), TEMPLATE)
            dense_hits, _, dense_n = probe(net, heads, tok, heldout_items(first), pad_id)
            a = np.mean(recent, 0)
            with open(args.curve, "a") as f:
                f.write(f"{step}\t{step * args.batch}\t{'+'.join(names)}\t{a[0]:.4f}\t{a[1]:.4f}\t{a[2]:.5f}\t"
                        f"{a[3]:.4f}\t{hits}\t{n}\t{time.time() - t0:.0f}\t{dense_hits}\t{dense_n}\n")
            print(f"train_pointer: step {step}: held-out {hits}/{n}, dense head within 14 px {dense_hits}/{dense_n}, "
                  f"e.g. {answers[:4]}", flush=True)
            recent = []
            save()
    save()
    print(f"train_pointer: stopped at step {step} after {time.time() - t0:.0f} s; checkpoint {path}")
    if args.export:
        net.eval()
        size = export.export(net, args.tokenizer, args.export)
        print(f"train_pointer: exported ({size / 2**20:.1f} MiB) -> {args.export}")


if __name__ == "__main__":
    main()
