#!/usr/bin/env python3
"""Writes a bluelm_vl checkpoint directory (docs/checkpoint-format.md) from the nano model:
config.json, model.safetensors (float16) and tokenizer.json.

Usage:
  training/export.py --checkpoint RUN/train.pt --out DIR   a train.py checkpoint (its tokenizer.json beside it)
  training/export.py --untrained --seed S --out DIR        freshly initialised weights with the pointer head
train.py --export DIR does the same at the end of a run.
"""
import argparse
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, common.TORCH_PACKAGES)

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

import model as nano  # noqa: E402
import tokenizer as nano_tok  # noqa: E402


def export(net, tokenizer_path, out_dir):
    """Writes the three files; returns the size of model.safetensors in bytes."""
    os.makedirs(out_dir, exist_ok=True)
    tensors = {k: p.detach().to(torch.float16).contiguous().clone() for k, p in net.checkpoint_tensors().items()}
    path = os.path.join(out_dir, "model.safetensors")
    save_file(tensors, path, metadata={"format": "pt"})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(net.config, f, indent=2)
    if os.path.abspath(tokenizer_path) != os.path.abspath(os.path.join(out_dir, "tokenizer.json")):
        shutil.copyfile(tokenizer_path, os.path.join(out_dir, "tokenizer.json"))
    return os.path.getsize(path)


def untrained(tok, seed):
    torch.manual_seed(seed)
    return nano.BlueLMNano(nano.pointer_config(tok)).eval()


def from_checkpoint(path):
    """A training checkpoint file ({"model", "config"}: train.py's train.pt)."""
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    net = nano.BlueLMNano(ckpt["config"])
    net.load_state_dict(ckpt["model"])
    return net.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--checkpoint")
    ap.add_argument("--untrained", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if bool(args.checkpoint) == args.untrained:
        sys.exit("export: give exactly one of --checkpoint and --untrained")
    if args.untrained:
        tok_path = os.path.join(args.out, "tokenizer.json")
        os.makedirs(args.out, exist_ok=True)
        tok = nano_tok.build_bytes()
        tok.save(tok_path)
        net = untrained(tok, args.seed)
    else:
        tok_path = os.path.join(os.path.dirname(os.path.abspath(args.checkpoint)), "tokenizer.json")
        if not os.path.exists(tok_path):
            sys.exit(f"export: no tokenizer.json beside {args.checkpoint}")
        net = from_checkpoint(args.checkpoint)
    size = export(net, tok_path, args.out)
    vis, proj, lm = nano.count_parameters(net)
    print(f"export: {vis / 1e6:.2f}M vision + {proj / 1e6:.2f}M adapter + {lm / 1e6:.2f}M language = "
          f"{(vis + proj + lm) / 1e6:.2f}M parameters, model.safetensors {size / 2**20:.1f} MiB -> {args.out}")


if __name__ == "__main__":
    main()
