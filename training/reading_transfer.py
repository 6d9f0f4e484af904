#!/usr/bin/env python3
"""Does the vision tower read words it was never shown? Character accuracy of the committed
model's tower and reading head (training/init/heads.safetensors) on reading tiles drawn from the
training split's words and from the held-out tenth of the dictionary (gen_reading.Reader), the
same fonts, sizes and seeds otherwise. A large gap means the tower learnt the training words
rather than their letters, and explains held-out grounding failing where training crops succeed.

Usage: training/reading_transfer.py [--model DIR] [--tiles N] [--seed S] [--threads T]
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, common.TORCH_PACKAGES)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import gen_reading  # noqa: E402
import train_device as td  # noqa: E402


def accuracy(model, split, seed, n):
    """(character accuracy over the filled slots, slots) on n tiles of `split`'s words."""
    reader = gen_reading.Reader(split)
    tiles = [reader.tile(seed, i) for i in range(n)]
    u8 = torch.from_numpy(np.stack([t[0] for t in tiles]))
    y = torch.from_numpy(np.stack([t[1] for t in tiles]).astype(np.int64)).flatten(1, 2)   # (n, g*g, SLOTS)
    valid = torch.full((n, 2), td.T, dtype=torch.int32)
    with torch.no_grad():
        logits = model.read(td.to_pixels(u8, valid, "cpu"))
    filled = y > 0
    return float((logits.argmax(-1)[filled] == y[filled]).float().mean()), int(filled.sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "Models", "bluelm-vl-nano"))
    ap.add_argument("--tiles", type=int, default=64)
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    _, model = td.exported(args.model)
    for split in ("train", "heldout"):
        acc, n = accuracy(model, split, args.seed, args.tiles)
        print(f"reading_transfer: {split} words: character accuracy {100 * acc:.1f} % over {n} characters")


if __name__ == "__main__":
    main()
