"""Fresh words on pool windows: the labels of a crop redrawn with PIL as words that the pool
never showed, so that no word repeats across samples and the grounding stage cannot learn the
training words themselves (README: the pointer run matched training words, not letters).

For each text element of the crop (buttons, check and radio buttons, menus, tabs, list items,
texts), the label's ink is found inside the element's box (pixels far from the box's most common
colour; the check or radio indicator dropped), painted over with that colour, and a new label
from the training split's dictionary (or a random letter string) is drawn in the window's font
family and pixel size, in the old ink's colour, on the old baseline, left-aligned or centred as
the old one was. Every text element of the crop is redrawn, not only the target, so PIL's
rendering is no cue to which one the instruction names. An element whose ink cannot be found or
whose new label does not fit keeps its toolkit text; a target that cannot be redrawn leaves the
sample as it was.
"""
import os
import re

import numpy as np
from PIL import Image, ImageDraw, ImageFont

import gen_reading
import vocab

ROLES = ("button", "checkbox", "radio", "menu", "tab", "listitem", "text")
CENTRED = ("button", "tab")
LETTERS = "abcdefghijklmnopqrstuvwxyz"


class Redrawer:
    def __init__(self, split="train"):
        self.words = vocab.word_lists(split)[0]
        self.files = {os.path.splitext(os.path.basename(p))[0]: p for p in gen_reading.font_files()}
        self.fonts = {}

    def font(self, style, size):
        """The window's family (style["font"]["family"], e.g. "Liberation Sans Narrow") at `size` px."""
        stem = style["font"]["family"].replace(" ", "")
        path = self.files.get(stem + "-Regular") or self.files.get(stem) or self.files.get(stem + "-Book")
        if path is None:
            return None
        key = (path, size)
        if key not in self.fonts:
            self.fonts[key] = ImageFont.truetype(path, size)
        return self.fonts[key]

    def word(self, rng):
        """A label never tied to one place: 1-2 dictionary words, or now and then random letters
        (never a held-out word)."""
        if rng.random() < 0.25:
            w = "".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 9)))
            while vocab.is_heldout(w):
                w = "".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 9)))
        else:
            w = " ".join(rng.choice(self.words) for _ in range(rng.choice((1, 1, 1, 2))))
        c = rng.random()
        return w[0].upper() + w[1:] if c < 0.5 else (w.title() if c < 0.6 else w)

    def redraw(self, img, record, target, crop, instruction, rng):
        """(image, instruction): the crop with its labels redrawn, the instruction naming the
        target's new label; or the inputs unchanged when the target cannot be redrawn."""
        old = target["text"].rstrip(":").strip()
        if target["role"] not in ROLES or not old or old.lower() not in instruction.lower():
            return img, instruction
        x0, y0, cw, ch = crop
        inside = [e for e in record["elements"] if e["role"] in ROLES and e["text"].strip()
                  and e["box"][0] >= x0 and e["box"][1] >= y0
                  and e["box"][0] + e["box"][2] <= x0 + cw and e["box"][1] + e["box"][3] <= y0 + ch]
        if target not in inside:
            return img, instruction
        px = np.array(img)
        new_target = None
        for e in inside:
            box = [e["box"][0] - x0, e["box"][1] - y0, e["box"][2], e["box"][3]]
            new = self._redraw_one(px, record["style"], e, box, rng)
            if e is target:
                new_target = new
        if new_target is None:
            return img, instruction
        pattern = re.compile(re.escape(old), re.IGNORECASE)
        return Image.fromarray(px), pattern.sub(lambda _: new_target, instruction, count=1)

    def _redraw_one(self, px, style, e, box, rng):
        """Redraws element e (box in crop pixels) in px, in place; its new label, or None."""
        # 2 px around the box: a label's box may be as tight as its text
        bx, by = max(0, box[0] - 2), max(0, box[1] - 2)
        bw = min(px.shape[1], box[0] + box[2] + 2) - bx
        bh = min(px.shape[0], box[1] + box[3] + 2) - by
        region = px[by:by + bh, bx:bx + bw].astype(np.int32)
        if region.shape[0] < 6 or region.shape[1] < 6:
            return None
        ink = ink_box(region, e["role"])
        if ink is None:
            return None
        bg, fg, (ix0, iy0, ix1, iy1) = ink
        size = style["font"].get("pixels") or round(style["font"]["points"] * style["font"].get("dpi", 96) / 72)
        text = e["text"].strip()
        # The size whose rendering of the old label matches its ink best (toolkits round sizes
        # their own way); none close enough means the ink is something else (bold, an icon).
        best = None
        for px_size in range(max(6, int(size) - 3), int(size) + 4):
            f = self.font(style, px_size)
            if f is None:
                return None
            t_left, t_top, t_right, t_bottom = f.getbbox(text, anchor="ls")
            err = abs((t_right - t_left) - (ix1 - ix0)) + abs((t_bottom - t_top) - (iy1 - iy0))
            if best is None or err < best[0]:
                best = (err, f, t_left, t_top, t_right)
        _, font, t_left, t_top, t_right = best
        if abs((t_right - t_left) - (ix1 - ix0)) > 0.08 * (ix1 - ix0) + 3:
            return None
        baseline = iy0 - t_top
        colon = ":" if text.endswith(":") else ""
        room = bw - 4 - (ix0 if e["role"] not in CENTRED else 0)
        for _ in range(8):
            word = self.word(rng)
            left, _, right, _ = font.getbbox(word + colon, anchor="ls")
            if right - left <= room:
                break
        else:
            return None
        # the anti-aliased fringe lies outside the strong ink: paint 3 px beyond it, inside the border
        region[max(2, iy0 - 2):min(bh - 2, iy1 + 2), max(2, ix0 - 3):min(bw - 2, ix1 + 3)] = bg
        tile = Image.fromarray(region.clip(0, 255).astype(np.uint8))
        x = (ix0 + ix1) / 2 - (right - left) / 2 if e["role"] in CENTRED else ix0
        x = min(max(1, x), bw - 1 - (right - left)) - left
        ImageDraw.Draw(tile).text((x, baseline), word + colon, font=font, fill=tuple(int(c) for c in fg), anchor="ls")
        px[by:by + bh, bx:bx + bw] = np.asarray(tile)
        return word


def ink_box(region, role):
    """(background, ink colour, (x0, y0, x1, y1)) of the label's ink inside an element's box:
    the ink is what differs from the box's most common colour by at least 45 % of the most any
    pixel does, 2 px in from its edges (borders); for check and radio buttons the first column run (the indicator) is dropped."""
    h, w, _ = region.shape
    flat = region.reshape(-1, 3)
    colours, counts = np.unique(flat, axis=0, return_counts=True)
    bg = colours[counts.argmax()]
    diff = np.abs(region - bg).sum(-1)
    inner = np.zeros_like(diff, dtype=bool)
    inner[2:-2, 2:-2] = True
    strongest = diff[inner].max() if inner.any() else 0
    if strongest < 90:
        return None  # no label that stands out from its background
    mask = inner & (diff > max(50, 0.45 * strongest))
    cols = np.flatnonzero(mask.any(0))
    if len(cols) < 3:
        return None
    if role in ("checkbox", "radio"):
        runs = np.split(cols, np.flatnonzero(np.diff(cols) > 3) + 1)
        if len(runs) < 2:
            return None
        first = runs[0]
        rows = np.flatnonzero(mask[:, first[0]:first[-1] + 1].any(1))
        if first[-1] - first[0] + 1 < 6 or (first[-1] - first[0] + 1) > 1.6 * (rows[-1] - rows[0] + 1):
            return None
        mask[:, :first[-1] + 2] = False
        cols = np.flatnonzero(mask.any(0))
        if len(cols) < 3:
            return None
    rows = np.flatnonzero(mask.any(1))
    if cols[0] <= 2 or rows[0] <= 2 or cols[-1] >= w - 3 or rows[-1] >= h - 3:
        return None  # ink up to the border: a box as tight as its text, whose edges were cut off
    # the ink's own colour: the mean of its strongest pixels (most of a small glyph is fringe)
    fg = region[mask & (diff >= 0.9 * diff[mask].max())].mean(0).round()
    return bg, fg, (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
