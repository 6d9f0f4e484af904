#!/usr/bin/env python3
"""Anchor for `gui-agent bench capture`: times python-mss grabbing a frame of $DISPLAY.

Usage:  PY=$(scripts/pyenv mss) && DISPLAY=:57 "$PY" scripts/bench/capture_mss.py [-n 100] [--rgb]

Prints one JSON line: {"mean_ms":..., "p50_ms":..., "min_ms":..., "n":..., "width":..., "height":...}.
mss's grab() returns BGRA bytes (it uses MIT-SHM when it can, else XGetImage); --rgb also
converts each frame to packed RGB, as ScreenCapture's capture() does, so the timings compare.
"""
import argparse
import json
import os
import statistics
import sys
import time

import mss


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=100, help="timed captures (after one warm-up)")
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--rgb", action="store_true", help="include the conversion to packed RGB")
    args = ap.parse_args()
    if not os.environ.get("DISPLAY"):
        print("DISPLAY is not set: run under an X server, e.g. Xvfb :57 -screen 0 1920x1080x24", file=sys.stderr)
        return 2
    region = {"left": 0, "top": 0, "width": args.width, "height": args.height}
    samples = []
    factory = getattr(mss, "MSS", None) or mss.mss  # mss >= 10 renamed the class
    with factory() as sct:
        shot = sct.grab(region)  # warm-up: opens the display, sets up shared memory
        for _ in range(args.n):
            t0 = time.perf_counter()
            shot = sct.grab(region)
            if args.rgb:
                _ = shot.rgb
            samples.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({
        "mean_ms": statistics.fmean(samples),
        "p50_ms": statistics.median(samples),
        "min_ms": min(samples),
        "n": len(samples),
        "width": shot.width,
        "height": shot.height,
        "rgb": args.rgb,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
