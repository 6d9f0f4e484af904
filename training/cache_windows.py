#!/usr/bin/env python3
"""Stage 2 of the pipeline (generate -> cache -> train -> evaluate -> export): runs the frozen
vision tower once over whole windows and whole screens (windows.py) and over both held-out sets,
and caches its features (post-layernorm, (tiles, 256, 192), float16) with every instruction of
each image, so that training (train.py) pays the tower once per image, not once per sample.

The tower comes from an exported model folder (default Models/bluelm-vl-nano, the reading-trained
tower) or a reading checkpoint; it is copied into the folder once (tower.pt) so that a cache never
mixes two towers, and train.py exports exactly that tower.

Output folder (default ~/.cache/gui-agent/training/windows/s<seed>):
  tower.pt, manifest.json
  shard_<k>.npy / .json   items k*S .. k*S+S-1: features of their tiles (thumbnail first, as the
                          engine orders them) and per item grid, thumb, size, n_tiles, source,
                          targets [{forms, box, tokens, role}] (the .json is written last)
  heldout.npy / .json, heldout-real.npy / .json   the two held-out sets, same layout, each
                          target carrying its ScreenSpot sample index
Resumable: run again with a larger --items to extend.

Usage: training/cache_windows.py [--pool DIR] [--items N] [--screens P] [--seed S] [--out DIR]
                                 [--tower MODEL_DIR|CKPT] [--shard-size S] [--threads T]
"""
import argparse
import json
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
from transformers import SiglipVisionConfig, SiglipVisionModel  # noqa: E402

import model as nano  # noqa: E402
import windows  # noqa: E402

CACHE = os.path.expanduser("~/.cache/gui-agent/training")
HELDOUT = {"heldout": (os.path.join(HERE, "heldout"), "screenspot_heldout.json"),
           "heldout-real": (os.path.join(HERE, "heldout-real"), "screenspot_realapps.json")}


# MARK: - Tower

def new_tower():
    return SiglipVisionModel(SiglipVisionConfig(**nano.VISION, vision_use_head=False, attn_implementation="sdpa"))


def tower_state(source):
    """The tower's state_dict from an exported model folder (its vision_model.* tensors) or a
    train_reading.py checkpoint (its vision.* keys)."""
    if os.path.exists(os.path.join(source, "model.safetensors")):
        from safetensors.torch import load_file
        tensors = load_file(os.path.join(source, "model.safetensors"))
        keys = new_tower().state_dict().keys()  # transformers 5: no vision_model. prefix; 4.x: with it
        strip = not any(k.startswith("vision_model.") for k in keys)
        vision = {(k[len("vision_model."):] if strip else k): v.float()
                  for k, v in tensors.items() if k.startswith("vision_model.")}
        return {"vision": vision, "source": source}
    if os.path.isfile(source):
        state = torch.load(source, map_location="cpu", weights_only=True)
        vision = {k[len("vision."):]: v for k, v in state["model"].items() if k.startswith("vision.")}
        return {"vision": vision, "source": source}
    sys.exit(f"cache_windows: no tower at {source} (an exported model folder or a train_reading.py checkpoint)")


def load_tower(out, source):
    """The folder's tower (copied from `source` the first time)."""
    path = os.path.join(out, "tower.pt")
    if not os.path.exists(path):
        torch.save(tower_state(source), path + ".tmp")
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


def write_pair(out, stem, feats, meta):
    """The .npy, then the .json (atomically, last: the done marker)."""
    np.save(os.path.join(out, stem + ".npy"), feats)
    with open(os.path.join(out, stem + ".json.tmp"), "w") as f:
        json.dump(meta, f)
    os.replace(os.path.join(out, stem + ".json.tmp"), os.path.join(out, stem + ".json"))


# MARK: - Items

def meta_of(item, n_tiles, thumb):
    return {"grid": item["grid"], "thumb": thumb, "size": item["size"], "n_tiles": n_tiles,
            "source": item["source"], "targets": item["targets"]}


def cache_items(tower, items, out, stem):
    feats, meta = [], []
    for item in items:
        tiles, thumb = windows.tiles_of(item)
        feats.append(features(tower, tiles))
        meta.append(meta_of(item, int(tiles.shape[0]), thumb))
    write_pair(out, stem, np.concatenate(feats), meta)
    return sum(m["n_tiles"] for m in meta)


def cache_heldout(tower, out):
    for stem, (folder, name) in HELDOUT.items():
        if not os.path.exists(os.path.join(out, stem + ".json")):
            items, _ = windows.heldout_items(folder, name)
            cache_items(tower, items, out, stem)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pool", default=os.path.join(CACHE, "pool"))
    ap.add_argument("--items", type=int, default=1024)
    ap.add_argument("--screens", type=float, default=0.15, help="share of items that are composed screens")
    ap.add_argument("--gtk", type=float, default=None, help="share of windows drawn from GTK ones")
    ap.add_argument("--max-tiles", type=int, default=24, help="largest grid of a window item")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shard-size", type=int, default=32)
    ap.add_argument("--tower", default=os.path.join(ROOT, "Models", "bluelm-vl-nano"))
    ap.add_argument("--out")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = args.out or os.path.join(CACHE, "windows", f"s{args.seed}")
    os.makedirs(out, exist_ok=True)
    manifest = {"pool": os.path.abspath(args.pool), "seed": args.seed, "screens": args.screens,
                "shard_size": args.shard_size, "gtk": args.gtk, "max_tiles": args.max_tiles}
    mpath = os.path.join(out, "manifest.json")
    data = windows.Windows(args.pool, screens=args.screens, seed=args.seed, gtk=args.gtk,
                           max_tiles=args.max_tiles)
    manifest["windows"] = len(data.data.files)  # items are drawn from the pool as it is: it must not change
    if os.path.exists(mpath) and json.load(open(mpath)) != manifest:
        sys.exit(f"cache_windows: {out} holds another configuration or pool ({mpath}); use another --out")
    with open(mpath, "w") as f:
        json.dump(manifest, f, indent=1)
    tower, state = load_tower(out, args.tower)
    print(f"cache_windows: tower from {state['source']} -> {out}", flush=True)
    cache_heldout(tower, out)
    print(f"cache_windows: {len(data.by_kit['tk'])} Tk and {len(data.by_kit['gtk'])} GTK windows in the pool",
          flush=True)
    t0, tiles, done = time.time(), 0, 0
    shards = (args.items + args.shard_size - 1) // args.shard_size
    for k in range(shards):
        if os.path.exists(os.path.join(out, f"shard_{k:05d}.json")):
            continue
        items = [data.item(i) for i in range(k * args.shard_size, (k + 1) * args.shard_size)]
        tiles += cache_items(tower, items, out, f"shard_{k:05d}")
        done += len(items)
        dt = time.time() - t0
        print(f"cache_windows: shard {k + 1}/{shards}  {done / dt:.2f} items/s  {tiles / dt:.1f} tiles/s",
              flush=True)


if __name__ == "__main__":
    main()
