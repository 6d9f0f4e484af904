#!/usr/bin/env python3
"""Runs the frozen nano vision tower over grounding samples (grounding_data.py) and the held-out
set, and caches its features (post_layernorm output, (tiles, 256, 192), float16) on disk, so that
the grounding stages train only adapter + decoder (README: a step through the tower costs
0.5 s for 4 tiles on this machine).

The tower comes from stage 1's checkpoint (reading/reading.pt, its `vision.*` keys), or, when
there is none, from a random initialisation (a warning says so: only good for smoke tests).
It is copied into the cache folder (tower.pt) the first time, and reused from there afterwards,
so a cache never mixes features of two towers while stage 1 goes on training; train_grounding.py
takes the tower for export from the same file.

Output folder (default ~/.cache/gui-agent/training/features/s<seed>-t<max_tiles>-h<min_height>):
  tower.pt              {"vision": state_dict, "source": path or None, "step": reading step or None}
  manifest.json         seed, curriculum, shard size
  shard_<k>.npy         features of samples k*S .. k*S+S-1, their tiles concatenated in order
  shard_<k>.json        per sample: input_ids, answer_ids, dense, n_tiles, grid, thumb, box, point,
                        window, instruction (written last: a shard counts as done when it exists)
  heldout.npy / .json   the held-out images' features and the ScreenSpot samples
Resumable: run again with a larger --samples to extend.

Usage: training/cache_features.py [--samples N] [--seed S] [--max-tiles K] [--min-height PX] [--fresh P] [--whole P]
                                  [--out DIR] [--reading CKPT] [--threads T] [--shard-size S]
"""
import argparse
import json
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
from transformers import SiglipVisionConfig, SiglipVisionModel  # noqa: E402

import grounding_data  # noqa: E402
import model as nano  # noqa: E402
import tokenizer as nano_tok  # noqa: E402

CACHE = os.path.expanduser("~/.cache/gui-agent/training")
READING = os.path.join(CACHE, "reading", "reading.pt")


# MARK: - Tower

def new_tower():
    return SiglipVisionModel(SiglipVisionConfig(**nano.VISION, vision_use_head=False, attn_implementation="sdpa"))


def tower_state(reading_path):
    """The tower's state_dict from stage 1's checkpoint or an exported model folder
    (Models/bluelm-vl-nano: its vision_model.* tensors), or a random one (warned)."""
    if os.path.exists(os.path.join(reading_path, "model.safetensors")):
        from safetensors.torch import load_file
        tensors = load_file(os.path.join(reading_path, "model.safetensors"))
        keys = new_tower().state_dict().keys()  # transformers 5: no vision_model. prefix; 4.x: with it
        strip = not any(k.startswith("vision_model.") for k in keys)
        vision = {(k[len("vision_model."):] if strip else k): v.float()
                  for k, v in tensors.items() if k.startswith("vision_model.")}
        return {"vision": vision, "source": reading_path, "step": None}
    if os.path.exists(reading_path) and not os.path.isdir(reading_path):
        state = torch.load(reading_path, map_location="cpu", weights_only=True)
        vision = {k[len("vision."):]: v for k, v in state["model"].items() if k.startswith("vision.")}
        return {"vision": vision, "source": reading_path, "step": state.get("step")}
    print(f"cache_features: WARNING: no reading checkpoint at {reading_path}: a RANDOM tower "
          "(features useless for real training; smoke tests only)", file=sys.stderr)
    torch.manual_seed(0)
    return {"vision": new_tower().state_dict(), "source": None, "step": None}


def load_tower(out, reading_path):
    """The folder's tower (made from reading_path the first time)."""
    path = os.path.join(out, "tower.pt")
    if not os.path.exists(path):
        torch.save(tower_state(reading_path), path + ".tmp")
        os.replace(path + ".tmp", path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    tower = new_tower()
    tower.load_state_dict(state["vision"], strict=True)
    return tower.eval(), state


def features(tower, tiles, chunk=16):
    """tiles (n, 3, T, T) float32 -> (n, g*g, D_v) float16."""
    out = []
    with torch.inference_mode():
        for i in range(0, tiles.shape[0], chunk):
            out.append(tower(pixel_values=torch.from_numpy(tiles[i:i + chunk])).last_hidden_state.to(torch.float16))
    return torch.cat(out).numpy()


# MARK: - Writing

def write_pair(out, stem, feats, meta):
    """The .npy, then the .json (atomically, last: the done marker)."""
    np.save(os.path.join(out, stem + ".npy"), feats)
    with open(os.path.join(out, stem + ".json.tmp"), "w") as f:
        json.dump(meta, f)
    os.replace(os.path.join(out, stem + ".json.tmp"), os.path.join(out, stem + ".json"))


def cache_shard(data, tower, out, k, size):
    feats, meta = [], []
    for i in range(k * size, (k + 1) * size):
        s = data.sample(i)
        feats.append(features(tower, s["tiles"]))
        meta.append({"input_ids": s["input_ids"], "answer_ids": s["answer_ids"], "dense": s["dense"].tolist(),
                     "n_tiles": int(s["tiles"].shape[0]), "grid": s["grid"], "thumb": s["thumb"], "box": s["box"],
                     "point": s["point"], "window": s["window"], "instruction": s["instruction"],
                     "crop": s["crop"]})
    write_pair(out, f"shard_{k:05d}", np.concatenate(feats), meta)
    return sum(m["n_tiles"] for m in meta)


def cache_heldout(tok, tower, out):
    images, samples = grounding_data.heldout_samples(tok)
    feats, meta = [], {"images": {}, "samples": samples}
    start = 0
    for name, (tiles, grid, thumb, size) in images.items():
        feats.append(features(tower, tiles))
        meta["images"][name] = {"tile_start": start, "n_tiles": int(tiles.shape[0]), "grid": grid, "thumb": thumb,
                                "size": list(size)}
        start += tiles.shape[0]
    write_pair(out, "heldout", np.concatenate(feats), meta)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-tiles", type=int, default=4)
    ap.add_argument("--min-height", type=int, default=0)
    ap.add_argument("--fresh", type=float, default=0.0,
                    help="share of crops whose labels are redrawn as new words (fresh_words.py)")
    ap.add_argument("--whole", type=float, default=0.0,
                    help="share of samples that are a whole window (any grid, any instruction form)")
    ap.add_argument("--shard-size", type=int, default=64)
    ap.add_argument("--pool", default=grounding_data.POOL)
    ap.add_argument("--reading", default=READING,
                    help="the tower: a train_reading.py checkpoint or an exported model folder")
    ap.add_argument("--out")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = args.out or os.path.join(CACHE, "features", f"s{args.seed}-t{args.max_tiles}-h{args.min_height}")
    os.makedirs(out, exist_ok=True)
    manifest = {"seed": args.seed, "max_tiles": args.max_tiles, "min_height": args.min_height,
                "shard_size": args.shard_size, "pool": args.pool}
    for knob in ("fresh", "whole"):
        if getattr(args, knob):
            manifest[knob] = getattr(args, knob)  # absent when 0: earlier caches keep matching
    mpath = os.path.join(out, "manifest.json")
    if os.path.exists(mpath) and json.load(open(mpath)) != manifest:
        sys.exit(f"cache_features: {out} holds another configuration ({mpath}); use another --out")
    with open(mpath, "w") as f:
        json.dump(manifest, f, indent=1)
    tok = nano_tok.load_or_build()
    tower, state = load_tower(out, args.reading)
    print(f"cache_features: tower from {state['source'] or 'random init'} (step {state['step']}) -> {out}")
    data = grounding_data.GroundingData(tok, pool=args.pool, seed=args.seed,
                                        curriculum=grounding_data.Curriculum(args.max_tiles, args.min_height, fresh=args.fresh, whole=args.whole))
    t0, tiles, done = time.time(), 0, 0
    if not os.path.exists(os.path.join(out, "heldout.json")):
        cache_heldout(tok, tower, out)
    for k in range((args.samples + args.shard_size - 1) // args.shard_size):
        if os.path.exists(os.path.join(out, f"shard_{k:05d}.json")):
            continue
        tiles += cache_shard(data, tower, out, k, args.shard_size)
        done += args.shard_size
        dt = time.time() - t0
        print(f"cache_features: shard {k}: {done} samples, {tiles} tiles in {dt:.0f} s "
              f"({done / dt:.1f} samples/s, {tiles / dt:.1f} tiles/s)")
    print(f"cache_features: {out} done")


if __name__ == "__main__":
    main()
