#!/usr/bin/env python3
"""Writes a bluelm_vl checkpoint directory (docs/checkpoint-format.md) from the nano model:
config.json, model.safetensors (float16) and tokenizer.json.

Usage:
  training/export.py --checkpoint CKPT.pt --out DIR      a training checkpoint ({"model", "config"})
  training/export.py --untrained --seed S --out DIR      freshly initialised weights (smoke tests)
The tokenizer is training/tokenizer.py's (--tokenizer FILE, default the cached one).
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
    shutil.copyfile(tokenizer_path, os.path.join(out_dir, "tokenizer.json"))
    return os.path.getsize(path)


def untrained(vocab_size, seed):
    torch.manual_seed(seed)
    return nano.BlueLMNano(nano.nano_config(vocab_size)).eval()


def from_checkpoint(path):
    """A training checkpoint file ({"model", "config"}), or a folder train_device.py wrote."""
    if os.path.isdir(path):
        parts = [torch.load(os.path.join(path, f), map_location="cpu", weights_only=True)
                 for f in ("device_vision.pt", "device_language.pt")]
        state = {k[len("net."):]: v for p in parts for k, v in p["model"].items() if k.startswith("net.")}
        ckpt = {"config": parts[0]["config"], "model": state}
    else:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    net = nano.BlueLMNano(ckpt["config"])
    net.load_state_dict(ckpt["model"])
    return net.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--checkpoint")
    ap.add_argument("--untrained", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tokenizer", default=os.path.join(nano_tok.CACHE, "tokenizer.json"))
    args = ap.parse_args()
    if bool(args.checkpoint) == args.untrained:
        sys.exit("export: give exactly one of --checkpoint and --untrained")
    tok = nano_tok.load_or_build(args.tokenizer)
    net = untrained(tok.get_vocab_size(), args.seed) if args.untrained else from_checkpoint(args.checkpoint)
    size = export(net, args.tokenizer, args.out)
    vis, proj, lm = nano.count_parameters(net)
    print(f"export: {vis / 1e6:.2f}M vision + {proj / 1e6:.2f}M adapter + {lm / 1e6:.2f}M language = "
          f"{(vis + proj + lm) / 1e6:.2f}M parameters, model.safetensors {size / 2**20:.1f} MiB -> {args.out}")


if __name__ == "__main__":
    main()
