#!/usr/bin/env python3
"""Packs what train_device.py needs on an accelerator machine that has no Debian fonts, no word
list, no pool and no network into one folder (default .devcarry/ in the checkout, which
.git/info/exclude should ignore): the pool (its JSON records in one records.jsonl.gz, the screenshots as lossless WebP:
pixel-identical, a third of the PNG's bytes), the UI fonts gen_reading uses, the word list, the tokenizer, and the init
weights (a train_reading.py checkpoint without its optimizer, or a train_device.py folder).
Then, on the accelerator (from the checkout root):
  GUI_AGENT_PYENV=1 GUI_AGENT_DICT=.devcarry/words GUI_AGENT_FONT_DIRS=.devcarry/fonts \\
  python3 training/train_device.py --pool .devcarry/pool --tokenizer .devcarry/tokenizer.json \\
      --init .devcarry/init.pt --out $OUT ...

Usage: training/pack_device.py [--out DIR] [--init PATH] [--pool DIR] [--jobs N]
"""
import argparse
import glob
import gzip
import json
import os
import shutil
import sys
import zlib
from concurrent.futures import ProcessPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, common.TORCH_PACKAGES)

import torch  # noqa: E402
from PIL import Image  # noqa: E402

import gen_reading  # noqa: E402
import grounding_data  # noqa: E402
import tokenizer as nano_tok  # noqa: E402
import vocab  # noqa: E402


def to_webp(args):
    png, webp = args
    if not os.path.exists(webp):
        Image.open(png).convert("RGB").save(webp + ".tmp", "WEBP", lossless=True, quality=100, method=4)
        os.replace(webp + ".tmp", webp)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, ".devcarry"))
    ap.add_argument("--init", default=os.path.join(nano_tok.CACHE, "reading", "reading.pt"))
    ap.add_argument("--pool", default=grounding_data.POOL)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--drop", type=float, default=0.0,
                    help="leave out this share of the windows (a fixed hash of the name): to fit the carry limit")
    args = ap.parse_args()
    pool_out = os.path.join(args.out, "pool", "train")
    os.makedirs(pool_out, exist_ok=True)
    jobs = []
    with gzip.open(os.path.join(pool_out, "records.jsonl.gz"), "wt", encoding="utf-8") as packed:
        for js in sorted(glob.glob(os.path.join(args.pool, "train", "*.json"))):
            stem = os.path.basename(js)[:-5]
            if zlib.crc32(stem.encode()) % 1000 < 1000 * args.drop:
                continue
            with open(js) as f:
                packed.write(json.dumps({**json.load(f), "stem": stem}) + "\n")
            jobs.append((js[:-5] + ".png", os.path.join(pool_out, stem + ".webp")))
    with ProcessPoolExecutor(args.jobs) as ex:
        list(ex.map(to_webp, jobs, chunksize=16))
    kept = {os.path.basename(w) for _, w in jobs}
    for f in os.listdir(pool_out):  # windows of an earlier pack that --drop leaves out now
        if f.endswith(".webp") and f not in kept:
            os.remove(os.path.join(pool_out, f))
    fonts = os.path.join(args.out, "fonts")
    os.makedirs(fonts, exist_ok=True)
    for f in gen_reading.font_files():
        shutil.copyfile(f, os.path.join(fonts, os.path.basename(f)))
    shutil.copyfile(vocab.DICT_PATH, os.path.join(args.out, "words"))
    shutil.copyfile(os.path.join(nano_tok.CACHE, "tokenizer.json"), os.path.join(args.out, "tokenizer.json"))
    if os.path.exists(os.path.join(args.init, "model.safetensors")):  # an exported model (Models/...)
        shutil.copytree(args.init, os.path.join(args.out, "init"), dirs_exist_ok=True)
    elif os.path.isdir(args.init):  # a train_device.py folder: both parts, in float16
        dst = os.path.join(args.out, "init")
        os.makedirs(dst, exist_ok=True)
        for name in ("device_vision.pt", "device_language.pt"):
            part = torch.load(os.path.join(args.init, name), map_location="cpu", weights_only=True)
            part["model"] = {k: v.half() if v.is_floating_point() else v for k, v in part["model"].items()}
            torch.save(part, os.path.join(dst, name))
    else:
        state = torch.load(args.init, map_location="cpu", weights_only=True)
        half = {k: v.half() if v.is_floating_point() else v for k, v in state["model"].items()}  # an init: f16 is plenty
        torch.save({"model": half, "step": state.get("step", 0)}, os.path.join(args.out, "init.pt"))
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(args.out) for f in fs)
    print(f"pack_device: {len(jobs)} windows, {size / 2**20:.1f} MiB in {args.out}")


if __name__ == "__main__":
    main()
