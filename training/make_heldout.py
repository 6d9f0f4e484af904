#!/usr/bin/env python3
"""The held-out grounding set in training/heldout/: Tk and GTK3 windows from gen_toolkit_pool.py with the
held-out words (training/vocab.py) and a seed no training run uses, in ScreenSpot v1 format
(bbox [x, y, w, h], data_type text|icon, data_source = the element's role, toolkit tk|gtk, so that
`gui-agent eval screenspot` reports accuracy by role).

One instruction per element (drawn deterministically from the element's forms), windows of
about 640x480 at most (GTK windows grow to their content) so that the PNGs stay small; Tk
windows are named tk_heldout_*, GTK3 windows gtk_heldout_*. Training must never read this folder.

Usage: training/make_heldout.py [--windows N] [--gtk-windows N] [--seed S]
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, ["pillow"])

from PIL import Image  # noqa: E402

OUT = os.path.join(HERE, "heldout")
HELDOUT_SEED = 900001  # training runs use small seeds; this one is reserved for the held-out set
ANNOTATIONS = "screenspot_heldout.json"


def convert(pool, toolkit, stem, name, seed):
    """Copies one pool window into OUT as `name` and returns its ScreenSpot samples."""
    with open(os.path.join(pool, "heldout", stem + ".json")) as f:
        rec = json.load(f)
    # Lossless re-encode (PIL's optimize): the same pixels in fewer bytes.
    Image.open(os.path.join(pool, "heldout", stem + ".png")).convert("RGB").save(os.path.join(OUT, name), optimize=True)
    rng = random.Random(f"heldout-pick:{toolkit}:{seed}:{stem}")
    return [{"img_filename": name, "bbox": e["box"], "instruction": rng.choice(e["instructions"]),
             "data_type": "icon" if e["role"] == "icon" else "text", "data_source": e["role"], "toolkit": toolkit}
            for e in rec["elements"] if e["instructions"]]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--windows", type=int, default=7)
    ap.add_argument("--gtk-windows", type=int, default=3)
    ap.add_argument("--seed", type=int, default=HELDOUT_SEED)
    args = ap.parse_args()
    pool = os.path.expanduser(f"~/.cache/gui-agent/training/heldout-pool-{args.seed}")
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    samples = []
    for toolkit, prefix, count in (("tk", "w", args.windows), ("gtk", "g", args.gtk_windows)):
        subprocess.run([os.path.join(HERE, "gen_toolkit_pool.py"), "--out", pool, "--split", "heldout",
                        "--toolkit", toolkit, "--seed", str(args.seed), "--count", str(count),
                        "--max-size", "640x480"], check=True)
        for i in range(count):
            samples += convert(pool, toolkit, f"{prefix}{i:06d}", f"{toolkit}_heldout_{i:03d}.png", args.seed)
    with open(os.path.join(OUT, ANNOTATIONS), "w") as f:  # one sample a line
        f.write("[\n" + ",\n".join(json.dumps(s) for s in samples) + "\n]\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"make_heldout: {len(samples)} samples on {args.windows + args.gtk_windows} windows, {total / 1024:.0f} KiB in {OUT}")


if __name__ == "__main__":
    main()
