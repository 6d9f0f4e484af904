#!/usr/bin/env python3
"""Stage 1, reading: trains the nano vision tower to name the characters in each patch of
224 x 224 tiles of text strips (gen_reading.Reader.tile), with one cross-entropy per character
slot of a linear head on the tower's patch features (post_layernorm output, as the adapter sees it).

Deterministic given --seed: batch b holds tiles b*B .. b*B+B-1 of the generator, the model is
initialised from torch.manual_seed(seed). Resumable: the checkpoint (tower, head, optimizer,
step) is saved every --save-every steps and when --minutes run out; running the same command
again continues. Each evaluation appends a line to the learning curve (--curve, in the repo).

Usage: training/train_reading.py [--minutes M] [--batch B] [--lr LR] [--blank-weight W] [--steps N] [--threads T]
       [--ckpt DIR] [--curve FILE]
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, common.TORCH_PACKAGES)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from transformers import SiglipVisionConfig, SiglipVisionModel  # noqa: E402

import gen_reading  # noqa: E402
import model as nano  # noqa: E402

CLASSES = 96  # blank + printable ASCII (gen_reading.char_id)
EVAL_SEED = 777  # the evaluation tiles: a generator seed no training batch uses
SCALED_EVAL = (0.75, 1.6)  # the resize factors AnyRes applies to windows and screens
MEAN, STD = 0.5, 0.5  # the format's image_mean / image_std


class Reader(nn.Module):
    """The nano vision tower and a per-patch character head: (B, 3, T, T) -> (B, g*g, SLOTS, CLASSES)."""

    def __init__(self):
        super().__init__()
        self.vision = SiglipVisionModel(SiglipVisionConfig(**nano.VISION, vision_use_head=False,
                                                           attn_implementation="sdpa"))
        self.head = nn.Linear(nano.VISION["hidden_size"], gen_reading.SLOTS * CLASSES)

    def forward(self, pixels):
        feats = self.vision(pixel_values=pixels).last_hidden_state     # (B, g*g, D_v)
        return self.head(feats).unflatten(-1, (gen_reading.SLOTS, CLASSES))


def tile_scale(i, scales):
    """The resize factor of shifted tile i: log-uniform over scales = (lo, hi), 1 when None."""
    if not scales:
        return 1.0
    lo, hi = scales
    return float(np.exp(np.log(lo) + ((i * 0.7548776662) % 1.0) * (np.log(hi) - np.log(lo))))


def pixels(images):
    """uint8 tiles (T, T, 3) -> the tower's input (n, 3, T, T), normalised as the format says."""
    x = np.stack(images).astype(np.float32) / 255.0
    return torch.from_numpy((x - MEAN) / STD).permute(0, 3, 1, 2).contiguous()


def batch(reader, seed, start, n, shifted=0.0, scales=None):
    """Tiles start .. start+n-1 as normalised pixels (n, 3, T, T) and targets (n, g*g, SLOTS);
    a `shifted` share of them off the patch grid (gen_reading.Reader.tile), those resized by a
    factor drawn from `scales` (lo, hi) when given."""
    tiles = []
    for i in range(start, start + n):
        off = (i * 0.6180339887) % 1.0 < shifted
        tiles.append(reader.tile(seed, i, shifted=off, scale=tile_scale(i, scales) if off else 1.0))
    x = pixels([t[0] for t in tiles])
    y = torch.from_numpy(np.stack([t[1] for t in tiles]).astype(np.int64)).flatten(1, 2)
    return x, y


def loss_and_accuracy(logits, y, blank_weight):
    """Cross-entropy over every slot, the blank class weighted by blank_weight (most slots are
    blank: unweighted, the head first learns to predict blank everywhere); accuracy over the
    slots that hold a character."""
    weight = torch.ones(CLASSES)
    weight[0] = blank_weight
    loss = F.cross_entropy(logits.flatten(0, 2), y.flatten(), weight=weight)
    filled = y > 0
    acc = (logits.argmax(-1)[filled] == y[filled]).float().mean()
    return loss, float(acc)


def probe(args, reader, net):
    """The head alone on the frozen tower (its features computed once), then character accuracy on
    held-out grid-aligned and shifted tiles: how much of the tower's reading survives text that
    does not sit on the patch grid."""
    net.vision.requires_grad_(False)
    opt = torch.optim.AdamW(net.head.parameters(), lr=3e-3)
    with torch.no_grad():
        train = [batch(reader, args.seed, k * args.batch, args.batch, args.shifted, args.scales) for k in range(args.steps)]
        train = [(net.vision(pixel_values=x).last_hidden_state, y) for x, y in train]
        evals = {name: batch(reader, EVAL_SEED, 0, 64, shifted, scales)
                 for name, shifted, scales in (("aligned", 0.0, None), ("shifted", 1.0, None),
                                               ("scaled", 1.0, SCALED_EVAL))}
        evals = {n: (net.vision(pixel_values=x).last_hidden_state, y) for n, (x, y) in evals.items()}
    for epoch in range(30):
        for feats, y in train:
            loss, _ = loss_and_accuracy(net.head(feats).unflatten(-1, (gen_reading.SLOTS, CLASSES)), y, args.blank_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        accs = {n: loss_and_accuracy(net.head(f).unflatten(-1, (gen_reading.SLOTS, CLASSES)), y, args.blank_weight)[1]
                for n, (f, y) in evals.items()}
    print(f"train_reading: probe of {args.init or 'a new tower'} ({args.steps * args.batch} tiles, "
          f"{args.shifted:.0%} shifted): character accuracy aligned {accs['aligned']:.3f}, shifted {accs['shifted']:.3f}, "
          f"shifted and resized {SCALED_EVAL[0]}-{SCALED_EVAL[1]} x {accs['scaled']:.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=170.0)
    ap.add_argument("--steps", type=int, default=200000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--blank-weight", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--save-every", type=int, default=200)
    ap.add_argument("--ckpt", default=os.path.expanduser("~/.cache/gui-agent/training/reading"))
    ap.add_argument("--curve", default=os.path.join(HERE, "curves", "reading.tsv"))
    ap.add_argument("--shifted", type=float, default=0.0,
                    help="share of training tiles whose text lies off the patch grid (Reader.tile)")
    ap.add_argument("--scales", type=lambda v: tuple(float(x) for x in v.split(",")), default=None,
                    help="lo,hi: resize the shifted tiles by a factor in this range (e.g. 0.75,1.6)")
    ap.add_argument("--from", dest="init", default=None,
                    help="start the tower from an exported model folder or a match.py / train.py checkpoint")
    ap.add_argument("--probe", action="store_true",
                    help="keep the tower frozen, fit the head only, and report reading on grid-aligned and "
                    "shifted tiles (a measurement of a tower, e.g. --from Models/bluelm-vl-nano)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    reader, net = gen_reading.Reader("train"), Reader()
    if args.init:
        import cache_windows
        net.vision.load_state_dict(cache_windows.tower_state(args.init)["vision"], strict=True)
        print(f"train_reading: tower from {args.init}", flush=True)
    if args.probe:
        return probe(args, reader, net)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01)
    path, step = os.path.join(args.ckpt, "reading.pt"), 0
    if os.path.exists(path):
        state = torch.load(path, map_location="cpu", weights_only=True)
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step = state["step"]
        print(f"train_reading: resumed at step {step}")
    os.makedirs(args.ckpt, exist_ok=True)
    os.makedirs(os.path.dirname(args.curve), exist_ok=True)
    if not os.path.exists(args.curve):
        with open(args.curve, "w") as f:
            f.write("step\ttiles\ttrain_loss\teval_loss\teval_char_acc\tseconds\teval_char_acc_shifted"
                    "\teval_char_acc_scaled\n")
    eval_x, eval_y = batch(reader, EVAL_SEED, 0, 32)
    shift_x, shift_y = batch(reader, EVAL_SEED, 0, 32, shifted=1.0)
    scaled_x, scaled_y = batch(reader, EVAL_SEED, 0, 32, shifted=1.0, scales=SCALED_EVAL)

    def save():
        torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "step": step,
                    "vision_config": nano.VISION}, path + ".tmp")
        os.replace(path + ".tmp", path)

    t0, recent, first = time.time(), [], step
    while step < args.steps and time.time() - t0 < args.minutes * 60:
        warm = min(1.0, (step + 1) / 200)  # linear warm-up, then constant
        for g in opt.param_groups:
            g["lr"] = args.lr * warm
        x, y = batch(reader, args.seed, step * args.batch, args.batch, args.shifted, args.scales)
        loss, _ = loss_and_accuracy(net(x), y, args.blank_weight)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        step += 1
        recent.append(loss.item())
        if step % args.eval_every == 0:
            with torch.no_grad():
                ev_loss, ev_acc = loss_and_accuracy(net(eval_x), eval_y, args.blank_weight)
                _, sh_acc = loss_and_accuracy(net(shift_x), shift_y, args.blank_weight)
                _, sc_acc = loss_and_accuracy(net(scaled_x), scaled_y, args.blank_weight)
            dt = time.time() - t0
            line = (f"{step}\t{step * args.batch}\t{np.mean(recent):.4f}\t{float(ev_loss):.4f}\t{ev_acc:.4f}\t{dt:.0f}"
                    f"\t{sh_acc:.4f}\t{sc_acc:.4f}")
            with open(args.curve, "a") as f:
                f.write(line + "\n")
            print(f"train_reading: step {step}, train {np.mean(recent):.3f}, eval {float(ev_loss):.3f}, "
                  f"char acc {ev_acc:.3f} (shifted {sh_acc:.3f}, resized {sc_acc:.3f}), {(step - first) * args.batch / dt:.1f} tiles/s", flush=True)
            recent = []
        if step % args.save_every == 0:
            save()
    save()
    print(f"train_reading: stopped at step {step} after {time.time() - t0:.0f} s; checkpoint {path}")


if __name__ == "__main__":
    main()
