#!/usr/bin/env python3
"""Text-line strips for reading pretraining, drawn with PIL in the fonts real toolkits use here
(DejaVu, Liberation, Cantarell; whatever of them fontconfig lists), at UI pixel sizes, on flat
colours, so that UI text reaches the vision tower at about 1x scale, as on a 1x AnyRes tile.

A strip is STRIP_H = 28 pixels high (2 patches of 14) and a multiple of 14 wide (at most
MAX_PATCHES patches). Targets, for a per-patch or a CTC objective:
  text        the string drawn (printable ASCII)
  char_x      (n, 2) int: each character's left and right pixel edge (PIL's advance widths)
  patch_chars (MAX_PATCHES, SLOTS) int: per patch column, the ids of the characters whose
              center falls in it, left to right, 0-padded (id = ord(c) - 31; 0 is blank)
Deterministic: sample i of seed s is drawn from random.Random(f"reading:{s}:{i}").

Usage: training/gen_reading.py [--count N] [--seed S] [--out SHARD.npz] [--show FILE.png]
prints samples/s; --out saves images and targets as one .npz; --show writes a contact sheet.
"""
import argparse
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, ["pillow", "numpy"])

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

import vocab  # noqa: E402

PATCH = 14
STRIP_H = 2 * PATCH
MAX_PATCHES = 32
SLOTS = 6  # characters whose centers can share a 14 px column (narrow fonts at 10 px: "rtial")
PIXEL_SIZES = list(range(10, 21))  # UI text: 7.5 to 15 pt at 96 dpi
FAMILIES = ["DejaVuSans", "DejaVuSerif", "DejaVuSansMono", "DejaVuSansCondensed", "LiberationSans",
            "LiberationSerif", "LiberationMono", "LiberationSansNarrow", "Cantarell"]
# GUI_AGENT_FONT_DIRS (":"-separated) names copies on machines without the Debian fonts (an accelerator run).
FONT_DIRS = os.environ.get("GUI_AGENT_FONT_DIRS", "/usr/share/fonts/truetype:/usr/share/fonts/opentype").split(":")
PUNCT = [":", "...", "?", "!", ",", ".", "%", ")", "&"]


def char_id(c):
    return ord(c) - 31  # ' ' (32) -> 1 ... '~' (126) -> 95; 0 is blank


def font_files():
    """Regular and bold TTF/OTF files of the UI families that are installed."""
    found = []
    for d in FONT_DIRS:
        for dirpath, _, files in os.walk(d):
            for f in sorted(files):
                stem, ext = os.path.splitext(f)
                base = stem.split("-")[0]
                style = stem[len(base) + 1:] if "-" in stem else "Regular"
                if ext.lower() in (".ttf", ".otf") and base in FAMILIES and style in ("Regular", "Bold", "Book", ""):
                    found.append(os.path.join(dirpath, f))
    if not found:
        raise SystemExit("gen_reading: no UI font found (scripts/install-deps training installs them)")
    return sorted(found)


class Reader:
    """Draws strips; fonts are opened once per (file, size)."""

    def __init__(self, split="train"):
        self.words, self.ui, self.phrases = vocab.word_lists(split)
        self.files = font_files()
        self.fonts = {}

    def font(self, path, size):
        key = (path, size)
        if key not in self.fonts:
            self.fonts[key] = ImageFont.truetype(path, size)
        return self.fonts[key]

    def text(self, rng):
        r = rng.random()
        if r < 0.2:
            t = rng.choice(self.ui + self.phrases)
        elif r < 0.3:
            t = str(rng.randint(0, 10 ** rng.randint(1, 6)))
        else:
            t = " ".join(rng.choice(self.words) for _ in range(rng.randint(1, 4)))
        case = rng.random()
        t = t.upper() if case < 0.08 else t.capitalize() if case < 0.5 else t
        if rng.random() < 0.15:
            t += rng.choice(PUNCT)
        return t

    def sample(self, seed, i, max_patches=MAX_PATCHES):
        """(image uint8 (STRIP_H, W, 3), targets dict); W a multiple of PATCH, at most max_patches of them."""
        rng = random.Random(f"reading:{seed}:{i}")
        path, size = rng.choice(self.files), rng.choice(PIXEL_SIZES)
        font = self.font(path, size)
        text, x0 = self.text(rng), rng.randint(1, 10)
        while len(text) > 1 and x0 + font.getlength(text) > max_patches * PATCH - 2:
            text = text[:-1].rstrip()  # a long line is cut, as a narrow widget cuts it
        width = x0 + int(font.getlength(text)) + rng.randint(2, 20)
        n_patches = min(max_patches, -(-width // PATCH))
        bg, fg = colours(rng)
        img = Image.new("RGB", (n_patches * PATCH, STRIP_H), bg)
        ascent, descent = font.getmetrics()
        y = (STRIP_H - ascent - descent) // 2 + rng.randint(-2, 2)
        ImageDraw.Draw(img).text((x0, y), text, font=font, fill=fg)
        # Edges from advance widths of prefixes: kerning-aware, as PIL places the glyphs.
        edges = [x0 + font.getlength(text[:k]) for k in range(len(text) + 1)]
        char_x = np.array([[edges[k], edges[k + 1]] for k in range(len(text))], dtype=np.int32)
        slots = np.zeros((MAX_PATCHES, SLOTS), dtype=np.int16)
        fill = [0] * MAX_PATCHES
        for k, c in enumerate(text):
            col = int((edges[k] + edges[k + 1]) / 2) // PATCH
            if c != " " and col < n_patches and fill[col] < SLOTS:
                slots[col, fill[col]] = char_id(c)
                fill[col] += 1
        return np.asarray(img), {"text": text, "char_x": char_x, "patch_chars": slots,
                                 "font": os.path.basename(path), "size": size}


    def tile(self, seed, i, size=224, shifted=False, scale=1.0, boxes=None):
        """size x size pixels of stacked strips (samples i*k .. i*k+k-1, k = size // STRIP_H), so
        that every position of a vision tile sees text. Returns (image uint8 (size, size, 3),
        patch_chars (size/PATCH, size/PATCH, SLOTS)).

        Not shifted, the strips sit on the 28-px grid and both patch rows of a strip get its
        targets. Shifted, the stack moves by a random 0-27 px down and 0-13 px right (text on a
        window lies anywhere against the patch grid) and a character belongs to the patch its
        centre falls in: the patch row of the strip's middle line, and the row above or below
        too when that line passes within 4 px of the row border.

        A shifted tile at `scale` s is drawn at size / s pixels and resized to size (bicubic, as
        AnyRes resizes a window onto its grid: a small window is enlarged up to about 1.6 x, a
        screen shrunk to about 0.75 x), the character positions with it. A list passed as `boxes`
        receives each visible strip's (text, [x0, y0, x1, y1]) in tile pixels (shifted tiles only)."""
        g, k = size // PATCH, size // STRIP_H
        if not shifted:
            img = np.zeros((size, size, 3), dtype=np.uint8)
            chars = np.zeros((g, g, SLOTS), dtype=np.int16)
            for r in range(k):
                strip, t = self.sample(seed, i * k + r, max_patches=g)
                img[r * STRIP_H:(r + 1) * STRIP_H] = strip[0, 0]  # the strip's background fills the row
                img[r * STRIP_H:(r + 1) * STRIP_H, :strip.shape[1]] = strip
                chars[2 * r] = chars[2 * r + 1] = t["patch_chars"][:g]
            return img, chars
        rng = random.Random(f"shift:{seed}:{i}")
        dy, dx = rng.randrange(STRIP_H), rng.randrange(PATCH)
        src = max(PATCH, int(round(size / scale)))  # the canvas side before the resize
        f = size / src
        k = -(-src // STRIP_H)
        cols = -(-src // PATCH)
        big = np.zeros(((k + 3) * STRIP_H, (cols + 1) * PATCH, 3), dtype=np.uint8)
        chars = np.zeros((g, g, SLOTS), dtype=np.int16)
        fill = np.zeros((g, g), dtype=np.int32)
        for r in range(k + 2):
            strip, t = self.sample(seed, i * (k + 2) + r, max_patches=min(MAX_PATCHES, cols))
            top = r * STRIP_H + dy  # the strip's top on the canvas; the tile is the canvas from row STRIP_H
            big[top:top + STRIP_H] = strip[0, 0]
            big[top:top + STRIP_H, dx:dx + strip.shape[1]] = strip
            mid = (top - STRIP_H + STRIP_H / 2) * f
            rows = {int(mid // PATCH)} | {int((mid + e * f) // PATCH) for e in (-4, 4)}
            if boxes is not None and len(t["text"].strip()):
                x0, x1 = (t["char_x"][0][0] + dx) * f, (t["char_x"][-1][1] + dx) * f
                y0, y1 = mid - 7 * f, mid + 7 * f  # the line's body, about x-height to cap height
                visible = (min(x1, size) - max(x0, 0)) * (min(y1, size) - max(y0, 0))
                if visible > 0.6 * (x1 - x0) * (y1 - y0):
                    boxes.append((t["text"], [max(x0, 0), max(y0, 0), min(x1, size), min(y1, size)]))
            for (x0, x1), c in zip(t["char_x"], t["text"]):
                col = int(((x0 + x1) / 2 + dx) * f) // PATCH
                if c == " " or col >= g:
                    continue
                for row in sorted(rows):
                    if 0 <= row < g and fill[row, col] < SLOTS:
                        chars[row, col, fill[row, col]] = char_id(c)
                        fill[row, col] += 1
        img = np.ascontiguousarray(big[STRIP_H:STRIP_H + src, :src])
        if src != size:
            img = np.asarray(Image.fromarray(img).resize((size, size), Image.BICUBIC))
        return img, chars


def colours(rng):
    """Background and text colours with a clear luminance gap (light or dark themes)."""
    while True:
        bg = tuple(rng.randint(0, 255) for _ in range(3))
        fg = tuple(rng.randint(0, 255) for _ in range(3))
        if abs(luma(bg) - luma(fg)) > 90:
            return bg, fg


def luma(c):
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def contact_sheet(samples, path):
    h = sum(img.shape[0] + 2 for img, _ in samples)
    sheet = Image.new("RGB", (MAX_PATCHES * PATCH, h), (128, 128, 128))
    y = 0
    for img, _ in samples:
        sheet.paste(Image.fromarray(img), (0, y))
        y += img.shape[0] + 2
    sheet.save(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--split", default="train", choices=["train", "heldout"])
    ap.add_argument("--out")
    ap.add_argument("--show")
    args = ap.parse_args()
    reader = Reader(args.split)
    t0 = time.time()
    samples = [reader.sample(args.seed, i) for i in range(args.count)]
    dt = time.time() - t0
    print(f"gen_reading: {args.count} strips in {dt:.2f} s ({args.count / dt:.0f} samples/s), "
          f"{len(reader.files)} font files")
    if args.out:
        images = np.zeros((args.count, STRIP_H, MAX_PATCHES * PATCH, 3), dtype=np.uint8)
        widths = np.array([img.shape[1] for img, _ in samples], dtype=np.int32)
        for k, (img, _) in enumerate(samples):
            images[k, :, :img.shape[1]] = img
        np.savez_compressed(args.out, images=images, widths=widths,
                            patch_chars=np.stack([t["patch_chars"] for _, t in samples]),
                            texts=np.array([t["text"] for _, t in samples]))
    if args.show:
        contact_sheet(samples[:24], args.show)


if __name__ == "__main__":
    main()
