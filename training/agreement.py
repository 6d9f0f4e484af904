#!/usr/bin/env python3
"""PyTorch and the Swift engine on the same exported model: greedy answers on the held-out sets
from train_device.heldout_eval (PyTorch, float32 from the model's float16 weights) and from
`gui-agent eval screenspot` (Swift), compared sample by sample: the same answer text, the same
hit or miss. The figure BENCHMARKS.md and Models/README.md report.

Usage: training/agreement.py [--model DIR] [--threads N] [FOLDER ...]
       (default: Models/bluelm-vl-nano on training/heldout and training/heldout-real)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, common.TORCH_PACKAGES)

import torch  # noqa: E402

import train_device as td  # noqa: E402


def swift_answers(model, folder, threads, scratch):
    """{(image, instruction): record} of `gui-agent eval screenspot` on the folder's annotations."""
    name = next(f for f in sorted(os.listdir(folder)) if f.startswith("screenspot_") and f.endswith(".json"))
    out = os.path.join(scratch, os.path.basename(folder.rstrip("/")) + ".jsonl")
    subprocess.run([common.gui_agent(), "eval", "screenspot", "--data", os.path.join(folder, name), "--images", folder,
                    "--model", model, "--threads", str(threads), "--max-tokens", "12", "--out", out, "--json"],
                   check=True, capture_output=True, text=True)
    with open(out) as f:
        return {(r["img_filename"], r["instruction"]): r for r in map(json.loads, f)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "Models", "bluelm-vl-nano"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("folders", nargs="*", default=[os.path.join(HERE, "heldout"), os.path.join(HERE, "heldout-real")])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tok, model = td.exported(args.model)
    with tempfile.TemporaryDirectory() as scratch:
        for folder in args.folders:
            hits, n, records = td.heldout_eval(model, tok, folder, "cpu")
            swift = swift_answers(args.model, folder, args.threads, scratch)
            same = sum(swift[(r["img_filename"], r["instruction"])]["answer"].strip() == r["answer"].strip()
                       for r in records)
            same_hit = sum(bool(swift[(r["img_filename"], r["instruction"])]["hit"]) == r["hit"] for r in records)
            print(f"agreement: {folder}: same answer {same}/{n}, same hit or miss {same_hit}/{n}; "
                  f"PyTorch {hits} hits, Swift {sum(bool(r['hit']) for r in swift.values())}")


if __name__ == "__main__":
    main()
