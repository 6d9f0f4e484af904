"""Whole windows and whole screens as pointer-head training items: the image at the AnyRes grid
the engine picks for it, and every instruction the image allows, each with the tile tokens its
target box covers. One item is one pass over the image: all its instructions share it
(train.py), so the expensive part, the image, is paid once for dozens of samples.

Items:
- a whole pool window (gen_toolkit_pool.py), every element with instructions, every form;
- a whole screen (`screen_item`): 2-4 pool windows on a flat desktop of a common screen size,
  the targets those whose box no later window covers, named by a text no other visible element
  shows (position forms count within one window, so a screen keeps only text forms).

Token order (docs/checkpoint-format.md): the pointer head sees the tiles only, row by row, each
tile's 8 x 8 tokens row-major; the thumbnail is left out. `targets[i]["tokens"]` are indices into
that order. `valid` marks tokens whose 28 x 28 canvas cell holds any image (the rest is padding).

Deterministic: item i of (pool, seed) is drawn from random.Random(f"window:{seed}:{i}") alone.
"""
import collections
import glob
import json
import os
import random
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
os.environ["GUI_AGENT_PYENV"] = "1"  # the fixture script imported below must not re-execute
sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
import make_anyres_fixtures as anyres_ref  # noqa: E402  (the AnyRes reference the engine is tested against)

sys.path.insert(0, HERE)
import model as nano  # noqa: E402

CELL = 2 * nano.VISION["patch_size"]        # canvas pixels an adapter token covers (28)
TILE = nano.ANYRES["tile_size"]             # 224
H_TOK = TILE // CELL                        # 8 tokens a tile side
SCREENS = [(1280, 800), (1366, 768), (1440, 900), (1600, 900), (1920, 1080)]  # composed screens


# MARK: - Geometry

def token_cells(box, resized, size, origin):
    """(8, 8) uint8: the token cells of one tile overlapped (positive area) by `box` ([x, y, w, h]
    in image pixels) after the resize from `size` (W, H) to `resized` (w, h); origin = the tile's
    corner on the canvas. Edges are v * w / W, multiplied first, so that an edge on a cell
    boundary does not leak into the cell before it."""
    (rw, rh), (W, H) = resized, size
    x0, y0 = box[0] * rw / W - origin[0], box[1] * rh / H - origin[1]
    x1, y1 = (box[0] + box[2]) * rw / W - origin[0], (box[1] + box[3]) * rh / H - origin[1]
    hits = np.zeros((H_TOK, H_TOK), dtype=np.uint8)
    for i in range(H_TOK):
        for j in range(H_TOK):
            if min(x1, (j + 1) * CELL) > max(x0, j * CELL) and min(y1, (i + 1) * CELL) > max(y0, i * CELL):
                hits[i, j] = 1
    return hits


def tile_token_cells(box, W, H, grid):
    """(tokens,) uint8 over the tiles only (format order): 1 where the token's canvas cell
    overlaps `box` ([x, y, w, h] in image pixels) after the aspect-keeping fit onto the canvas."""
    r, c = grid
    nw, nh = anyres_ref.fit_size(W, H, c * TILE, r * TILE)
    return np.concatenate([token_cells(box, (nw, nh), (W, H), (j * TILE, i * TILE)).ravel()
                           for i in range(r) for j in range(c)])


def valid_tokens(W, H, grid):
    """(tokens,) uint8 over the tiles: 1 where the token's cell holds some of the resized image."""
    return tile_token_cells([0, 0, W, H], W, H, grid)


def tokens_of(box, W, H, grid):
    return np.flatnonzero(tile_token_cells(box, W, H, grid)).astype(np.int32).tolist()


class Windows:
    """Items over a pool split (Tk w* and GTK g*), whole windows and composed screens."""

    def __init__(self, pool, split="train", screens=0.0, seed=0, gtk=None, max_tiles=24):
        self.data = _Pool(pool, split)
        self.screens, self.seed, self.max_tiles = screens, seed, max_tiles
        names = [os.path.basename(f) for f in self.data.files]
        self.by_kit = {"gtk": [k for k, n in enumerate(names) if n.startswith("g")],
                       "tk": [k for k, n in enumerate(names) if not n.startswith("g")]}
        self.gtk = gtk  # share of windows drawn from the GTK ones (None: as the pool holds them)

    def pick_window(self, rng):
        """A window index whose own grid has at most max_tiles tiles (big windows are what
        screens are for), GTK with probability `gtk` when both toolkits are there."""
        for _ in range(1000):
            kits = [k for k in ("gtk", "tk") if self.by_kit[k]]
            if self.gtk is not None and len(kits) == 2:
                k = rng.choice(self.by_kit["gtk" if rng.random() < self.gtk else "tk"])
            else:
                k = rng.randrange(len(self.data.files))
            W, H = self.data.record(k)["size"]
            r, c = anyres_ref.select_grid(W, H, nano.ANYRES)
            if r * c <= self.max_tiles:
                return k
        raise SystemExit(f"windows: no window of at most {self.max_tiles} tiles in the pool")

    def item(self, i):
        """{"image": PIL, "grid", "thumb", "size", "targets": [{"forms", "box", "tokens", "role", "text"}],
        "source"}; targets hold every element with at least one instruction."""
        rng = random.Random(f"window:{self.seed}:{i}")
        if self.screens and rng.random() < self.screens:
            img, targets, source = self.screen_item(rng)
        else:
            k = self.pick_window(rng)
            rec = self.data.record(k)
            img = self.data.window_image(k)
            targets = [{"forms": list(e["instructions"]), "box": list(e["box"]), "role": e["role"],
                        "text": e["text"]} for e in rec["elements"] if e["instructions"]]
            source = os.path.basename(self.data.files[k])[:-5]
        W, H = img.size
        grid = anyres_ref.select_grid(W, H, nano.ANYRES)
        for t in targets:
            t["tokens"] = tokens_of(t["box"], W, H, grid)
        targets = [t for t in targets if t["tokens"]]
        return {"image": img, "grid": list(grid), "size": [W, H], "targets": targets, "source": source}

    def screen_item(self, rng):
        """2-4 windows on a desktop; text-named targets that are visible and unique on the screen."""
        d = self.data
        for _ in range(100):
            W, H = rng.choice(SCREENS)
            screen = Image.new("RGB", (W, H), tuple(rng.randrange(256) for _ in range(3)))
            placed = []
            for _ in range(rng.randint(2, 4)):
                k = rng.randrange(len(d.files))
                w, h = d.record(k)["size"]
                if w > W or h > H:
                    continue
                x, y = rng.randint(0, W - w), rng.randint(0, H - h)
                screen.paste(d.window_image(k), (x, y))
                placed.append((k, x, y, w, h))
            texts = collections.Counter(e["text"].strip().lower() for k, *_ in placed
                                        for e in d.record(k)["elements"] if e["text"].strip())
            targets = []
            for n, (k, x, y, _, _) in enumerate(placed):
                for e in d.record(k)["elements"]:
                    box = [x + e["box"][0], y + e["box"][1], e["box"][2], e["box"][3]]
                    forms = [t for t in e["instructions"] if names_text(e, t)]
                    if (forms and texts[e["text"].strip().lower()] == 1
                            and not any(overlaps(box, p[1:]) for p in placed[n + 1:])):
                        targets.append({"forms": forms, "box": box, "role": e["role"], "text": e["text"]})
            if targets:
                return screen, targets, "+".join(os.path.basename(d.files[p[0]])[:-5] for p in placed)
        raise SystemExit("windows: no screen could be composed from the pool")


class _Pool:
    """The windows of a pool split (gen_toolkit_pool.py): their records and screenshots."""

    def __init__(self, pool, split):
        self.files = sorted(glob.glob(os.path.join(pool, split, "*.json")))
        if not self.files:
            raise SystemExit(f"windows: no pool windows in {os.path.join(pool, split)} "
                             "(run training/gen_toolkit_pool.py first)")
        self._records = {}

    def record(self, k):
        if k not in self._records:
            with open(self.files[k]) as f:
                self._records[k] = json.load(f)
        return self._records[k]

    def window_image(self, k):
        return Image.open(self.files[k][:-5] + ".png").convert("RGB")


def names_text(e, instruction):
    """True when the instruction quotes the element's own text (not a role or position)."""
    return bool(e["text"].strip()) and e["text"].strip().lower() in instruction.lower()


def overlaps(a, b):
    """Whether boxes [x, y, w, h] share area."""
    return min(a[0] + a[2], b[0] + b[2]) > max(a[0], b[0]) and min(a[1] + a[3], b[1] + b[3]) > max(a[1], b[1])


def heldout_items(folder, name):
    """A ScreenSpot-format set as items: one per image, its samples as targets (one form each)."""
    with open(os.path.join(folder, name)) as f:
        samples = json.load(f)
    by_image = collections.OrderedDict()
    for n, s in enumerate(samples):
        by_image.setdefault(s["img_filename"], []).append((n, s))
    items = []
    for fname, group in by_image.items():
        img = Image.open(os.path.join(folder, fname)).convert("RGB")
        W, H = img.size
        grid = anyres_ref.select_grid(W, H, nano.ANYRES)
        targets = [{"forms": [s["instruction"]], "box": list(s["bbox"]), "tokens": tokens_of(s["bbox"], W, H, grid),
                    "role": s.get("data_type", ""), "sample": n} for n, s in group]
        items.append({"image": img, "grid": list(grid), "size": [W, H], "targets": targets, "source": fname})
    return items, samples


# MARK: - Labels

def _templates():
    import re
    import instructions as ins
    forms = [f for fs in ins.TEXT_FORMS.values() for f in fs] + ins.LABEL_FORMS + ins.VALUE_FORMS
    forms = sorted({f for f in forms if f not in ("{t}", "{l}")}, key=len, reverse=True)
    return [re.compile("^" + re.escape(f).replace(r"\{t\}", "(.+)").replace(r"\{l\}", "(.+)") + "$") for f in forms]


_TEMPLATES = None


def label_of(form):
    """The label an instruction names ("click the Save button" -> "Save"), or None for a role and
    position phrase ("the second checkbox"); a bare label is its own label."""
    global _TEMPLATES
    import instructions as ins
    if _TEMPLATES is None:
        _TEMPLATES = _templates()
    nouns = set(ins.ROLE_NOUN.values())
    if any(form in (f"the {o} {n}" for o in ins.ORDINALS + ["last"]) or form == f"the {n}"
           or form.startswith(f"the {n} at the ") or form == f"the {n} in the center" for n in nouns):
        return None
    for rx in _TEMPLATES:
        m = rx.match(form)
        if m:
            return m.group(1)
    return form


def tiles_of(item):
    """The item's tiles (n, 3, T, T) float32 as the engine makes them, and the thumbnail size."""
    grid, _, thumb, tiles = anyres_ref.tile_tensor(item["image"], nano.ANYRES)
    if list(grid) != item["grid"]:
        raise ValueError(f"grid {grid} != {item['grid']}")
    return tiles, thumb
