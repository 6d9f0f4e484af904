#!/usr/bin/env python3
"""Stages 2-3, grounding: trains adapter + decoder (+ a small dense head) of bluelm-vl-nano on
cached features of the frozen vision tower (cache_features.py).

Loss = cross-entropy on the answer tokens `(x,y)</s>` + λ * dense BCE, where the dense logit of
an image token is a scaled dot product of two projections (DenseHead) of the decoder's last hidden
states: at that image token and at the last prompt token ("[|AI|]:"), target = the token
overlaps the queried element's box (grounding_data.dense_target). The dense head is training only:
it is not part of the exported checkpoint.

Deterministic given --seed (model init) and the cache: batch b holds cached samples
(b*B .. b*B+B-1) mod N. Resumable: the checkpoint (whole model incl. the cache's tower, dense head,
optimizer, step) is saved every --save-every steps and when --minutes run out; running the same
command again continues. Every --eval-every steps the held-out set (cached features) is decoded
greedily in Python and scored (a hit: the point lies in the box, edges included, as
`gui-agent eval screenspot` counts), and a line goes to the learning curve. With --swift-eval the
final model is exported (export.py) and scored by the Swift evaluator, the reference for reported
numbers.

Usage: training/train_grounding.py [--cache DIR] [--minutes M] [--steps N] [--batch B] [--lr LR]
       [--dense-weight λ] [--threads T] [--eval-limit N] [--swift-eval] [--ckpt DIR] [--curve FILE]
"""
import argparse
import json
import math
import os
import re
import subprocess
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

import export  # noqa: E402
import grounding_data  # noqa: E402
import model as nano  # noqa: E402
import tokenizer as nano_tok  # noqa: E402
import make_model_fixtures as model_ref  # noqa: E402  (greedy; on sys.path through model.py)

CACHE = os.path.expanduser("~/.cache/gui-agent/training")
BRACKETS = re.compile(r"[(\[]([0-9.,\s]*)[)\]]")


# MARK: - Cached data

class FeatureCache:
    """The samples of a cache_features.py folder: meta in memory, features memory-mapped."""

    def __init__(self, folder):
        self.folder = folder
        self.shards, self.index = [], []  # index: (shard, tile_start, meta) per sample
        k = 0
        while os.path.exists(os.path.join(folder, f"shard_{k:05d}.json")):
            with open(os.path.join(folder, f"shard_{k:05d}.json")) as f:
                metas = json.load(f)
            self.shards.append(np.load(os.path.join(folder, f"shard_{k:05d}.npy"), mmap_mode="r"))
            start = 0
            for m in metas:
                self.index.append((k, start, m))
                start += m["n_tiles"]
            k += 1
        if not self.index:
            raise SystemExit(f"train_grounding: no cached samples in {folder} (run training/cache_features.py)")
        with open(os.path.join(folder, "heldout.json")) as f:
            self.heldout = json.load(f)
        self.heldout_feats = np.load(os.path.join(folder, "heldout.npy"), mmap_mode="r")
        self.tower = torch.load(os.path.join(folder, "tower.pt"), map_location="cpu", weights_only=True)

    def __len__(self):
        return len(self.index)

    def item(self, j):
        """(meta, features (n_tiles, g*g, D_v) float32) of sample j."""
        k, start, m = self.index[j]
        return m, torch.from_numpy(np.asarray(self.shards[k][start:start + m["n_tiles"]], dtype=np.float32))

    def heldout_image(self, name):
        m = self.heldout["images"][name]
        feats = self.heldout_feats[m["tile_start"]:m["tile_start"] + m["n_tiles"]]
        return m, torch.from_numpy(np.asarray(feats, dtype=np.float32))


def collate(items, eos):
    """Right-padded (ids, labels, attention mask) (B, n), features (tiles, g*g, D_v) in batch order,
    the last prompt position and the dense targets per sample."""
    seqs = [m["input_ids"] + m["answer_ids"] for m, _ in items]
    n = max(len(s) for s in seqs)
    ids = torch.full((len(items), n), eos, dtype=torch.long)
    labels = torch.full((len(items), n), -100, dtype=torch.long)
    mask = torch.zeros((len(items), n), dtype=torch.long)
    for b, ((m, _), s) in enumerate(zip(items, seqs)):
        ids[b, :len(s)] = torch.tensor(s)
        labels[b, len(m["input_ids"]):len(s)] = torch.tensor(m["answer_ids"])
        mask[b, :len(s)] = 1
    last = [len(m["input_ids"]) - 1 for m, _ in items]
    dense = [torch.tensor(m["dense"], dtype=torch.float32) for m, _ in items]
    return ids, labels, mask, torch.cat([f for _, f in items]), last, dense


# MARK: - Model

class DenseHead(nn.Module):
    """The logit of "this image token shows the queried element": q(h_last_prompt) . k(h_image) / sqrt(d) + b."""

    def __init__(self, d_lm, d=64):
        super().__init__()
        self.q, self.k, self.d = nn.Linear(d_lm, d), nn.Linear(d_lm, d), d
        self.bias = nn.Parameter(torch.tensor(-2.0))  # most tokens are negatives

    def forward(self, h_query, h_image):
        # k (n_img, d) @ q (d,) -> (n_img,)
        return self.k(h_image) @ self.q(h_query) / math.sqrt(self.d) + self.bias


def losses(net, head, batch, pad_id, pos_weight):
    """(LM cross-entropy on the answer tokens, dense BCE over all image tokens)."""
    ids, labels, mask, feats, last, dense = batch
    embeds = net.embed_features(ids, feats, pad_id)                        # (B, n, D_lm)
    out = net.language_model(inputs_embeds=embeds, attention_mask=mask, labels=labels, output_hidden_states=True)
    hidden = out.hidden_states[-1]                                           # (B, n, D_lm), after the final norm
    logits = [head(hidden[b, last[b]], hidden[b][ids[b] == pad_id]) for b in range(ids.shape[0])]
    bce = F.binary_cross_entropy_with_logits(torch.cat(logits), torch.cat(dense),
                                             pos_weight=torch.tensor(pos_weight))
    return out.loss, bce


def build(cache, seed, vocab_size):
    """The nano model with the cache's tower (frozen) and a dense head, both from `seed`."""
    torch.manual_seed(seed)
    net = nano.BlueLMNano(nano.nano_config(vocab_size))
    net.vision.load_state_dict(cache.tower["vision"], strict=True)
    for p in net.vision.parameters():
        p.requires_grad_(False)
    return net, DenseHead(net.config["text_config"]["hidden_size"])


# MARK: - Evaluation

def parse_point(text, size):
    """The answer's point in pixels, or None, read as the Swift AnswerParser reads bare brackets:
    the first (...) or [...] group of only numbers holding 2 numbers (a point) or 4 (a box: its
    center), norm1000 mapped to pixels as the engine does (v * side / 1000)."""
    for m in BRACKETS.finditer(text):
        try:
            v = [float(n) for n in re.split(r"[,\s]+", m.group(1).strip()) if n]
        except ValueError:  # "1.2.3" is no number
            continue
        if len(v) == 4:
            v = [(v[0] + v[2]) / 2, (v[1] + v[3]) / 2]
        if len(v) == 2:
            return v[0] * size[0] / 1000, v[1] * size[1] / 1000
    return None


def spread(samples, limit):
    """`limit` samples spread over the whole list (all images), or all of them when limit is 0."""
    return samples[::max(1, len(samples) // limit)][:limit] if limit else samples


def python_eval(net, tok, cache, samples, template=grounding_data.IMAGE_FIRST):
    """Greedy answers on held-out samples from cached features: (hits, n, answers); `template`
    places the instruction and the image in the prompt."""
    pad_id, eos = tok.token_to_id(nano_tok.TOKENS["image_pad"]), tok.token_to_id(nano_tok.TOKENS["eos"])
    hits, answers = 0, []
    net.eval()
    with torch.no_grad():
        for s in samples:
            m, feats = cache.heldout_image(s["img_filename"])
            ids = torch.tensor([grounding_data.prompt_ids(tok, s["instruction"], m["grid"], m["thumb"], template)])
            tokens, _ = model_ref.greedy(net.language_model, net.embed_features(ids, feats, pad_id), 10)
            tokens = tokens[:tokens.index(eos)] if eos in tokens else tokens  # the engine stops at eos
            text = tok.decode(tokens, skip_special_tokens=False)
            point = parse_point(text, m["size"])
            x, y, w, h = s["bbox"]
            hits += point is not None and x <= point[0] <= x + w and y <= point[1] <= y + h
            answers.append(text)
    net.train()
    return hits, len(samples), answers


def swift_eval(ckpt_path, out_dir, threads, limit=0):
    """Exports the checkpoint and scores it with `gui-agent eval screenspot` (the first `limit`
    samples, or all): (the JSON report, the per-sample results in file order)."""
    net = export.from_checkpoint(ckpt_path)
    export.export(net, os.path.join(nano_tok.CACHE, "tokenizer.json"), out_dir)
    heldout, results = os.path.join(HERE, "heldout"), os.path.join(out_dir, "results.jsonl")
    if os.path.exists(results):
        os.remove(results)  # the evaluator would resume from it
    cmd = [common.gui_agent(), "eval", "screenspot", "--data", os.path.join(heldout, "screenspot_heldout.json"),
           "--images", heldout, "--model", out_dir, "--threads", str(threads), "--max-tokens", "12",
           "--out", results, "--json"] + (["--limit", str(limit)] if limit else [])
    report = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    with open(results) as f:
        per_sample = sorted((json.loads(line) for line in f if line.strip()), key=lambda r: r["index"])
    return report, per_sample


# MARK: - Training

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=os.path.join(CACHE, "features", "s0-t4-h0"))
    ap.add_argument("--minutes", type=float, default=170.0)
    ap.add_argument("--steps", type=int, default=1000000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--dense-weight", type=float, default=1.0)
    ap.add_argument("--dense-pos-weight", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--eval-limit", type=int, default=0,
                    help="held-out samples a Python evaluation scores (0: all 219)")
    ap.add_argument("--save-every", type=int, default=200)
    ap.add_argument("--swift-eval", action="store_true", help="export and score with the Swift evaluator at the end")
    ap.add_argument("--swift-limit", type=int, default=0, help="held-out samples the Swift evaluation scores (0: all)")
    ap.add_argument("--ckpt", default=os.path.join(CACHE, "grounding"))
    ap.add_argument("--curve", default=os.path.join(HERE, "curves", "grounding.tsv"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tok = nano_tok.load_or_build()
    eos, pad_id = tok.token_to_id(nano_tok.TOKENS["eos"]), tok.token_to_id(nano_tok.TOKENS["image_pad"])
    cache = FeatureCache(args.cache)
    net, head = build(cache, args.seed, tok.get_vocab_size())
    params = [p for p in net.parameters() if p.requires_grad] + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    path, step = os.path.join(args.ckpt, "grounding.pt"), 0
    if os.path.exists(path):
        state = torch.load(path, map_location="cpu", weights_only=True)
        if not all(torch.equal(state["model"]["vision." + k], v) for k, v in cache.tower["vision"].items()):
            sys.exit(f"train_grounding: {path} was trained on another tower than {args.cache}'s; use another --ckpt")
        net.load_state_dict(state["model"])
        head.load_state_dict(state["dense_head"])
        opt.load_state_dict(state["optimizer"])
        step = state["step"]
        print(f"train_grounding: resumed at step {step}")
    os.makedirs(args.ckpt, exist_ok=True)
    os.makedirs(os.path.dirname(args.curve), exist_ok=True)
    if not os.path.exists(args.curve):
        with open(args.curve, "w") as f:
            f.write("\t".join(["step", "samples", "train_lm", "train_dense", "evaluator", "heldout_hits",
                               "heldout_n", "heldout_acc", "seconds", "cache"]) + "\n")
    print(f"train_grounding: {len(cache)} cached samples in {args.cache}, tower step {cache.tower['step']}")

    def save():
        torch.save({"model": net.state_dict(), "config": net.config, "dense_head": head.state_dict(),
                    "optimizer": opt.state_dict(), "step": step, "cache": args.cache}, path + ".tmp")
        os.replace(path + ".tmp", path)

    def curve_line(lm, dense, evaluator, hits, n):
        with open(args.curve, "a") as f:
            f.write(f"{step}\t{step * args.batch}\t{lm:.4f}\t{dense:.4f}\t{evaluator}\t{hits}\t{n}\t{hits / n:.4f}\t"
                    f"{time.time() - t0:.0f}\t{os.path.basename(args.cache)}\n")

    def evaluate():
        hits, n, answers = python_eval(net, tok, cache, spread(cache.heldout["samples"], args.eval_limit))
        dt = time.time() - t0
        lm, dense = np.mean(recent, axis=0) if recent else (float("nan"),) * 2
        curve_line(lm, dense, "python", hits, n)
        print(f"train_grounding: step {step}, lm {lm:.3f}, dense {dense:.3f}, held-out {hits}/{n} "
              f"({100 * hits / n:.1f} %), e.g. {answers[:3]}, {(step - first) * args.batch / dt:.1f} samples/s")

    net.train()
    t0, recent, first = time.time(), [], step
    while step < args.steps and time.time() - t0 < args.minutes * 60:
        for g in opt.param_groups:
            g["lr"] = args.lr * min(1.0, (step + 1) / args.warmup)  # linear warm-up, then constant
        batch = collate([cache.item((step * args.batch + k) % len(cache)) for k in range(args.batch)], eos)
        lm, dense = losses(net, head, batch, pad_id, args.dense_pos_weight)
        opt.zero_grad()
        (lm + args.dense_weight * dense).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        recent.append((lm.item(), dense.item()))
        if step % args.eval_every == 0:
            evaluate()
            recent = []
        if step % args.save_every == 0:
            save()
    save()
    print(f"train_grounding: stopped at step {step} after {time.time() - t0:.0f} s "
          f"({(step - first) / max(1e-9, time.time() - t0):.2f} steps/s); checkpoint {path}")
    if args.swift_eval:
        report, _ = swift_eval(path, os.path.join(args.ckpt, "export"), args.threads, args.swift_limit)
        curve_line(float("nan"), float("nan"), "swift", report["hits"], report["n"])
        print(f"train_grounding: Swift evaluator on the held-out set: {report['hits']}/{report['n']} "
              f"({100 * report['overall']:.1f} %), no coordinate {report['no_coordinate']}")


if __name__ == "__main__":
    main()
