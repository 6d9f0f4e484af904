#!/usr/bin/python3
"""Renders a pool of random Tk (default) or GTK3 (--toolkit gtk, gtk_layout.py) windows under a
private Xvfb and labels every element from the toolkit's own geometry, for grounding training
(reused many times: crops, compositions, jitter). The Tk details follow; GTK's are in gtk_layout.py.

Each window: a random size, font family and size, tk scaling (DPI), colours, classic Tk or a
ttk theme, and a random layout of a menu bar, a toolbar, forms (label + entry), check and radio
groups, lists, notebooks (tabs), a dialog and a button row, with words from the dictionary and
UI vocabulary (training/vocab.py decides which words are held out). The screenshot comes from
our own `gui-agent capture --region`; every box from winfo_rootx/rooty/width/height (list rows
from Listbox.bbox, tabs from Notebook.index('@x,y')).

Output, one pair per window (the JSON is written last, atomically, so a window counts as done
when its JSON exists; a run that stops is resumed by running the same command again):
  OUT/<split>/w<index>.png     (g<index> for GTK windows)
  OUT/<split>/w<index>.json   {"id", "toolkit", "split", "seed", "size": [W, H], "style": {...},
                               "elements": [{"role", "text", "label", "box": [x, y, w, h],
                                             "instructions": [...]}]}
Deterministic: Tk window i of split s is drawn from random.Random(f"{s}:{seed}:{i}"), a GTK
window from random.Random(f"gtk:{s}:{seed}:{i}").

Usage: training/gen_toolkit_pool.py [--toolkit tk|gtk] [--out DIR] [--split train|heldout] [--seed S]
                                     [--start I] [--count N] [--max-size WxH]
Default OUT: ~/.cache/gui-agent/training/pool. Needs Debian's python3-tk (hence
/usr/bin/python3), Xvfb (started through scripts/with-xvfb) and a built gui-agent
(GUI_AGENT=path, else .build/release/gui-agent of this checkout or of /work/main).
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time
import tkinter as tk
import tkinter.font as tkfont
from tkinter import ttk

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import common  # noqa: E402
import vocab  # noqa: E402
import instructions  # noqa: E402
import tk_layout  # noqa: E402

SCREEN = (1920, 1080)
DEFAULT_OUT = os.path.expanduser("~/.cache/gui-agent/training/pool")
FONT_FAMILIES = ["DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono", "Liberation Sans",
                 "Liberation Serif", "Liberation Sans Narrow", "Cantarell"]
# Window sizes seen on desktops: dialogs, small apps, half and full screens.
SIZES = [(360, 240), (420, 320), (480, 360), (640, 480), (800, 600), (960, 640), (1024, 768),
         (1280, 800), (1366, 768), (1600, 900), (1920, 1080)]


# MARK: - Style

def random_style(rng, families, max_size=SCREEN):
    """Font, scaling, colours and widget set of one window."""
    W, H = rng.choice(SIZES)
    W = min(max_size[0], max(300, int(W * rng.uniform(0.85, 1.15))))
    H = min(max_size[1], max(200, int(H * rng.uniform(0.85, 1.15))))
    dark = rng.random() < 0.25
    if dark:
        bg = "#%02x%02x%02x" % tuple(rng.randint(20, 70) for _ in range(3))
        fg = "#%02x%02x%02x" % tuple(rng.randint(200, 255) for _ in range(3))
        field = "#%02x%02x%02x" % tuple(rng.randint(10, 50) for _ in range(3))
    else:
        bg = "#%02x%02x%02x" % tuple(rng.randint(200, 245) for _ in range(3))
        fg = "#%02x%02x%02x" % tuple(rng.randint(0, 60) for _ in range(3))
        field = "#%02x%02x%02x" % tuple(rng.randint(235, 255) for _ in range(3))
    return {"size": [W, H], "family": rng.choice(families), "points": rng.choice([8, 9, 9, 10, 10, 11, 12, 13]),
            "scaling": round(rng.choice([1.0, 1.25, 1.333, 1.333, 1.5, 1.75]), 3),
            "widgets": rng.choice(["tk", "ttk:clam", "ttk:alt", "ttk:default", "ttk:classic"]),
            "bg": bg, "fg": fg, "field": field, "dark": dark}


# MARK: - One window

def capture(binary, W, H, png_path):
    subprocess.run([binary, "capture", "--region", f"0,0,{W},{H}", "-o", png_path],
                   check=True, stdout=subprocess.DEVNULL)


def render_gtk_window(rng, words, binary, png_path, max_size=SCREEN):
    import gtk_layout  # GTK is imported only when asked for: the Tk path must not need it
    style = gtk_layout.random_style(rng, max_size)
    layout = gtk_layout.Builder(rng, words, style)
    layout.build()
    (W, H), elements = layout.measure()
    W, H = min(W, SCREEN[0]), min(H, SCREEN[1])
    elements = [e for e in elements if e["box"][0] + e["box"][2] <= W and e["box"][1] + e["box"][3] <= H]
    capture(binary, W, H, png_path)
    layout.destroy()
    style["size"] = [W, H]
    instructions.attach(elements, rng, W, H)
    return style, {"family": style["family"], "points": style["points"], "dpi": style["dpi"]}, elements


def render_window(root, rng, words, binary, png_path, max_size=SCREEN):
    style = random_style(rng, root.available_families, max_size)
    W, H = style["size"]
    root.tk.call("tk", "scaling", style["scaling"])
    font = tkfont.Font(root=root, family=style["family"], size=style["points"])
    bold = tkfont.Font(root=root, family=style["family"], size=style["points"] + rng.choice([0, 2, 4]),
                       weight="bold")
    if style["widgets"].startswith("ttk:"):
        ttk.Style(root).theme_use(style["widgets"][4:])
    top = tk.Toplevel(root, bg=style["bg"])
    top.overrideredirect(True)
    top.geometry(f"{W}x{H}+0+0")
    layout = tk_layout.Builder(top, rng, words, style, font, bold)
    layout.build()
    for _ in range(3):
        top.update()
    elements = layout.measure(W, H)
    capture(binary, W, H, png_path)
    top.destroy()
    font_desc = {"family": style["family"], "points": style["points"],
                 "pixels": round(style["points"] * style["scaling"])}
    instructions.attach(elements, rng, W, H)
    return style, font_desc, elements


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--split", default="train", choices=["train", "heldout"])
    ap.add_argument("--toolkit", default="tk", choices=["tk", "gtk"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--max-size", default=f"{SCREEN[0]}x{SCREEN[1]}", help="largest window, WxH")
    args = ap.parse_args()
    if os.environ.get("GEN_POOL_XVFB") != "1":
        env = dict(os.environ, GEN_POOL_XVFB="1")
        sys.exit(subprocess.call([os.path.join(ROOT, "scripts", "with-xvfb"), "--screen",
                                  f"{SCREEN[0]}x{SCREEN[1]}x24", "/usr/bin/python3",
                                  os.path.abspath(__file__)] + sys.argv[1:], env=env))
    max_size = tuple(int(v) for v in args.max_size.split("x"))
    out = os.path.join(args.out, args.split)
    os.makedirs(out, exist_ok=True)
    binary = common.gui_agent()
    words = vocab.word_lists(args.split)
    root = None
    if args.toolkit == "tk":
        root = tk.Tk()
        root.withdraw()
        have = set(tkfont.families(root))
        root.available_families = [f for f in FONT_FAMILIES if f in have] or ["TkDefaultFont"]
    prefix = "w" if args.toolkit == "tk" else "g"
    done, t0 = 0, time.time()
    for i in range(args.start, args.start + args.count):
        stem = os.path.join(out, f"{prefix}{i:06d}")
        if os.path.exists(stem + ".json"):
            continue
        if args.toolkit == "tk":
            rng = random.Random(f"{args.split}:{args.seed}:{i}")
            style, font_desc, elements = render_window(root, rng, words, binary, stem + ".png", max_size)
        else:
            rng = random.Random(f"gtk:{args.split}:{args.seed}:{i}")
            style, font_desc, elements = render_gtk_window(rng, words, binary, stem + ".png", max_size)
        record = {"id": f"{prefix}{i:06d}", "toolkit": args.toolkit, "split": args.split, "seed": args.seed, "size": style["size"],
                  "style": {**style, "font": font_desc}, "elements": elements}
        with open(stem + ".json.tmp", "w") as f:
            json.dump(record, f)
        os.replace(stem + ".json.tmp", stem + ".json")
        done += 1
    dt = time.time() - t0
    if done:
        print(f"gen_toolkit_pool: {done} windows in {dt:.1f} s ({done / dt:.2f} windows/s) -> {out}")
    else:
        print(f"gen_toolkit_pool: nothing to do, {args.count} windows already in {out}")


if __name__ == "__main__":
    main()
