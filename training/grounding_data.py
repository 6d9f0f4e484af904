"""Grounding samples from the toolkit window pool (gen_toolkit_pool.py): a crop of one window
that holds the target element, tiled exactly as the format does (scripts/fixtures/
make_anyres_fixtures.tile_tensor, the reference the Swift engine is tested against), the prompt
`[|Human|]:<|image_pad|>{instruction}[|AI|]:` with the image_pad expanded to the format's token
layout, the answer `(x,y)</s>` (the box center in norm1000 of the crop: the engine maps v to
v * W / 1000), and the dense target: which image tokens (adapter outputs, 28 x 28 canvas pixels
each, thumbnail first, then the tiles row by row, each tile's 8 x 8 tokens row-major as
downsample_2x2 orders them) overlap the element's box.

Curriculum knobs (`Curriculum`): `max_tiles`, the largest AnyRes grid of a crop (1-4 tiles, plus
the thumbnail when the grid has more than one), and `min_height`, the smallest target box height
in pixels (large labels first). Smaller crops also show fewer elements (distractors).
Crops are taken at scale s in [0.92, 1.0] of the grid's canvas, so text reaches the tower at
1.0-1.09x, never downscaled (README: Config choice). `whole` makes a share of the samples whole
windows instead, at the grid AnyRes picks for them and with any instruction form (positions
too): the held-out sets are whole windows and screens, and crops alone do not transfer to them.
`fresh` redraws a share of the crops' labels as new words (fresh_words.py).

Deterministic: sample i of seed s is drawn from random.Random(f"ground:{s}:{i}") alone.
"""
import collections
import dataclasses
import glob
import gzip
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
import make_anyres_fixtures as anyres_ref  # noqa: E402

sys.path.insert(0, HERE)
import model as nano  # noqa: E402  (ANYRES, VISION)
from tokenizer import CHAT, TOKENS  # noqa: E402

POOL = os.path.expanduser("~/.cache/gui-agent/training/pool")
CELL = 2 * nano.VISION["patch_size"]        # canvas pixels an adapter token covers (28)
TILE = nano.ANYRES["tile_size"]             # 224
H_TOK = TILE // CELL                        # 8 tokens a tile side
SCREENS = [(1280, 800), (1366, 768), (1440, 900), (1600, 900), (1920, 1080)]  # compose_screen sizes


@dataclasses.dataclass(frozen=True)
class Curriculum:
    max_tiles: int = 4      # largest grid (rows * cols) of a crop
    min_height: int = 0     # smallest target box height in pixels
    screens: float = 0.0    # share of samples that are whole composed screens (compose_screen)
    jitter: float = 0.0     # share of samples whose colours are permuted or inverted
    fresh: float = 0.0      # share of crops whose labels are redrawn as new words (fresh_words.py)
    whole: float = 0.0      # share of samples that are a whole window, any instruction form


# MARK: - Geometry

def norm1000(v, size):
    """A pixel coordinate as the format's norm1000 integer (0-999); the engine maps back v * size / 1000."""
    return min(999, max(0, round(v * 1000 / size)))


def token_cells(box, resized, size, origin):
    """The (row, col) token cells of an h x h tile grid overlapped (positive area) by `box`
    ([x, y, w, h] in crop pixels) after the resize from `size` (W, H) to `resized` (w, h) (PIL
    maps the whole crop onto the whole resized image); origin = the tile's corner on the canvas.
    Edges are v * w / W, multiplied first: exact when the edge falls on a cell boundary (with
    v * (w / W) a box starting exactly at a boundary leaked into the cell before it)."""
    (rw, rh), (W, H) = resized, size
    x0, y0 = box[0] * rw / W - origin[0], box[1] * rh / H - origin[1]
    x1, y1 = (box[0] + box[2]) * rw / W - origin[0], (box[1] + box[3]) * rh / H - origin[1]
    hits = np.zeros((H_TOK, H_TOK), dtype=np.uint8)
    for i in range(H_TOK):
        for j in range(H_TOK):
            if min(x1, (j + 1) * CELL) > max(x0, j * CELL) and min(y1, (i + 1) * CELL) > max(y0, i * CELL):
                hits[i, j] = 1
    return hits


def dense_target(box, W, H, grid, thumb):
    """(image tokens,) uint8: 1 where a token overlaps the box, in the format's token order."""
    r, c = grid
    nw, nh = anyres_ref.fit_size(W, H, c * TILE, r * TILE)
    parts = []
    if thumb:
        parts.append(token_cells(box, thumb, (W, H), (0, 0)).ravel())
    for i in range(r):
        for j in range(c):
            parts.append(token_cells(box, (nw, nh), (W, H), (j * TILE, i * TILE)).ravel())
    return np.concatenate(parts)


def token_positions(W, H, grid, thumb):
    """(image tokens, 2) float32: each token's cell center as a fraction of the image's width and
    height (beyond 1 in the canvas padding), in the format's token order: what the decoder must
    know of every image token to answer with a point (train_device.py's position objective)."""
    r, c = grid
    nw, nh = anyres_ref.fit_size(W, H, c * TILE, r * TILE)
    centers = (np.arange(H_TOK) + 0.5) * CELL
    yy, xx = np.meshgrid(centers, centers, indexing="ij")                      # (8, 8) each, row-major
    parts = []
    if thumb:
        parts.append(np.stack([xx / thumb[0], yy / thumb[1]], -1).reshape(-1, 2))
    for i in range(r):
        for j in range(c):
            parts.append(np.stack([(xx + j * TILE) / nw, (yy + i * TILE) / nh], -1).reshape(-1, 2))
    return np.concatenate(parts).astype(np.float32)


# MARK: - Prompt

def special_ids(tok):
    """The format's special token ids ({"image_pad": id, ...}); also set for token_layout."""
    ids = {k: tok.token_to_id(v) for k, v in TOKENS.items()}
    anyres_ref.IDS = ids  # token_layout reads the module's ids
    return ids


IMAGE_FIRST = TOKENS["image_pad"] + "{instruction}"   # the engine's default: the image, then the text


def prompt_ids(tok, instruction, grid, thumb, template=IMAGE_FIRST):
    """The prompt with image_pad expanded to the token layout (list of ids), as the engine builds
    it; `template` places the instruction and the image in the user turn."""
    ids_of = special_ids(tok)
    text = CHAT["user"].replace("{content}", template.replace("{instruction}", instruction)) + CHAT["assistant"]
    layout = anyres_ref.token_layout(grid[0], grid[1], thumb, H_TOK)
    ids = tok.encode(text, add_special_tokens=False).ids
    return [t for i in ids for t in (layout if i == ids_of["image_pad"] else [i])]


# MARK: - Loader

class GroundingData:
    """Samples over the pool windows of one split (Tk w* and GTK g*)."""

    def __init__(self, tokenizer, pool=POOL, split="train", seed=0, curriculum=Curriculum()):
        self.tok, self.seed, self.cur = tokenizer, seed, curriculum
        self.files = sorted(glob.glob(os.path.join(pool, split, "*.json")))
        self._records = {}
        packed = os.path.join(pool, split, "records.jsonl.gz")  # pack_device.py: all JSONs in one file
        if not self.files and os.path.exists(packed):
            with gzip.open(packed, "rt", encoding="utf-8") as f:
                records = [json.loads(line) for line in f]
            self.files = [os.path.join(pool, split, r["stem"] + ".json") for r in records]
            self._records = dict(enumerate(records))
        if not self.files:
            raise SystemExit(f"grounding_data: no pool windows in {os.path.join(pool, split)} "
                             "(run training/gen_toolkit_pool.py first)")
        self.ids = special_ids(tokenizer)

    def record(self, k):
        if k not in self._records:
            with open(self.files[k]) as f:
                self._records[k] = json.load(f)
        return self._records[k]

    def prompt_ids(self, instruction, grid, thumb):
        return prompt_ids(self.tok, instruction, grid, thumb)

    def answer_ids(self, x, y):
        return self.tok.encode(f"({x},{y})", add_special_tokens=False).ids + [self.ids["eos"]]

    def pick(self, rng):
        """(window index, element, instruction, crop [x0, y0, W, H]) obeying the curriculum."""
        for _ in range(1000):
            k = rng.randrange(len(self.files))
            rec = self.record(k)
            els = [e for e in rec["elements"] if e["instructions"] and e["box"][3] >= self.cur.min_height]
            if not els:
                continue
            e = rng.choice(els)
            Wwin, Hwin = rec["size"]
            if self.cur.whole and rng.random() < self.cur.whole:
                return k, e, rng.choice(e["instructions"]), [0, 0, Wwin, Hwin]
            bx, by, bw, bh = e["box"]
            grids = [(r, c) for r in range(1, 5) for c in range(1, 5) if r * c <= self.cur.max_tiles]
            r, c = rng.choice(grids)
            s = rng.uniform(0.92, 1.0)
            cw, ch = min(Wwin, round(c * TILE * s)), min(Hwin, round(r * TILE * s))
            if bw > cw or bh > ch:
                continue
            x0 = rng.randint(max(0, bx + bw - cw), min(bx, Wwin - cw))
            y0 = rng.randint(max(0, by + bh - ch), min(by, Hwin - ch))
            # "the second text field" counts over the whole window: only a whole window keeps it true
            whole = (cw, ch) == (Wwin, Hwin)
            forms = [t for t in e["instructions"] if whole or names_text(e, t)]
            if forms:
                return k, e, rng.choice(forms), [x0, y0, cw, ch]
        raise SystemExit("grounding_data: no element fits the curriculum " + str(self.cur))

    def redrawer(self):
        if not hasattr(self, "_redrawer"):
            import fresh_words
            self._redrawer = fresh_words.Redrawer("train")
        return self._redrawer

    def window_image(self, k):
        """The window's screenshot: PNG, or the lossless WebP of a packed pool (pack_device.py)."""
        stem = self.files[k][:-5]
        return Image.open(stem + ".png" if os.path.exists(stem + ".png") else stem + ".webp").convert("RGB")

    def compose_screen(self, rng):
        """A whole screen: 2-4 pool windows pasted at random places on a flat desktop colour, and
        a target that no later window covers, named by its text, whose text no other element of
        those windows shows. -> (image, box [x, y, w, h], instruction, window names)."""
        for _ in range(100):
            W, H = rng.choice(SCREENS)
            screen = Image.new("RGB", (W, H), tuple(rng.randrange(256) for _ in range(3)))
            placed = []  # (window index, x, y, w, h), bottom to top
            for _ in range(rng.randint(2, 4)):
                k = rng.randrange(len(self.files))
                w, h = self.record(k)["size"]
                if w > W or h > H:
                    continue
                x, y = rng.randint(0, W - w), rng.randint(0, H - h)
                screen.paste(self.window_image(k), (x, y))
                placed.append((k, x, y, w, h))
            texts = collections.Counter(e["text"].strip().lower() for k, *_ in placed
                                        for e in self.record(k)["elements"] if e["text"].strip())
            found = []
            for n, (k, x, y, _, _) in enumerate(placed):
                for e in self.record(k)["elements"]:
                    box = [x + e["box"][0], y + e["box"][1], e["box"][2], e["box"][3]]
                    forms = [t for t in e["instructions"] if names_text(e, t)]
                    if (forms and texts[e["text"].strip().lower()] == 1 and box[3] >= self.cur.min_height
                            and not any(overlaps(box, p[1:]) for p in placed[n + 1:])):
                        found.append((box, forms, k))
            if found:
                box, forms, k = rng.choice(found)
                return screen, box, rng.choice(forms), [os.path.basename(self.files[p[0]])[:-5] for p in placed]
        raise SystemExit("grounding_data: no screen could be composed from the pool")

    def sample(self, i, pixels="float"):
        """Sample i: a dict with tiles (n, 3, T, T) float32 (pixels="uint8": (n, T, T, 3) uint8
        and `valid`, the (rows, cols) of each tile that hold image, see tile_uint8), grid, thumb,
        input_ids (prompt), answer_ids, dense (image tokens,) uint8, box (image pixels), point
        (norm1000), crop, window, instruction."""
        rng = random.Random(f"ground:{self.seed}:{i}")
        if self.cur.screens and rng.random() < self.cur.screens:
            img, box, instruction, window = self.compose_screen(rng)
            crop = [0, 0, img.size[0], img.size[1]]
        else:
            k, e, instruction, crop = self.pick(rng)
            x0, y0, cw, ch = crop
            img = self.window_image(k).crop((x0, y0, x0 + cw, y0 + ch))
            box = [e["box"][0] - x0, e["box"][1] - y0, e["box"][2], e["box"][3]]
            window = os.path.basename(self.files[k])[:-5]
            if self.cur.fresh and rng.random() < self.cur.fresh:
                img, instruction = self.redrawer().redraw(img, self.record(k), e, crop, instruction, rng)
        if self.cur.jitter and rng.random() < self.cur.jitter:
            img = jitter_colours(img, rng)
        cw, ch = img.size
        if pixels == "uint8":
            grid, thumb, tiles, valid = tile_uint8(img)
        else:
            grid, _, thumb, tiles = anyres_ref.tile_tensor(img, nano.ANYRES)
            valid = None
        px, py = norm1000(box[0] + box[2] / 2, cw), norm1000(box[1] + box[3] / 2, ch)
        return {"tiles": tiles, "valid": valid, "grid": list(grid), "thumb": thumb,
                "input_ids": self.prompt_ids(instruction, grid, thumb),
                "answer_ids": self.answer_ids(px, py), "dense": dense_target(box, cw, ch, grid, thumb),
                "positions": token_positions(cw, ch, grid, thumb),
                "box": box, "point": [px, py], "crop": crop, "window": window, "instruction": instruction}


# MARK: - Pixels

def names_text(e, instruction):
    """True when the instruction quotes the element's own text (not a role or position)."""
    return bool(e["text"].strip()) and e["text"].strip().lower() in instruction.lower()


def overlaps(a, b):
    """Whether boxes [x, y, w, h] share area."""
    return min(a[0] + a[2], b[0] + b[2]) > max(a[0], b[0]) and min(a[1] + a[3], b[1] + b[3]) > max(a[1], b[1])


def jitter_colours(img, rng):
    """The channels permuted, sometimes inverted: new colour schemes, the same text at the same scale."""
    x = np.asarray(img)[:, :, rng.sample(range(3), 3)]
    if rng.random() < 0.3:
        x = 255 - x
    return Image.fromarray(np.ascontiguousarray(x))


def tile_uint8(img):
    """AnyRes as tile_tensor does it, before normalisation: (grid, thumb, tiles (n, T, T, 3) uint8,
    valid (n, 2) int32 = the rows and columns of each tile that hold resized image). Normalising
    the valid part and zeroing the rest gives tile_tensor's tiles exactly; a quarter of the bytes
    of float32 through the loader's worker processes."""
    cfg, T = nano.ANYRES, TILE
    W, H = img.size
    r, c = anyres_ref.select_grid(W, H, cfg)
    filt = anyres_ref.FILTERS[cfg["resample"]]
    nw, nh = anyres_ref.fit_size(W, H, c * T, r * T)
    tiles, valid, thumb = [], [], None
    if cfg["thumbnail"] and r * c > 1:
        tw, th = anyres_ref.fit_size(W, H, T, T)
        thumb = (tw, th)
        t = np.zeros((T, T, 3), dtype=np.uint8)
        t[:th, :tw] = np.asarray(img.resize((tw, th), filt))
        tiles.append(t)
        valid.append((th, tw))
    canvas = np.zeros((r * T, c * T, 3), dtype=np.uint8)
    canvas[:nh, :nw] = np.asarray(img.resize((nw, nh), filt))
    for i in range(r):
        for j in range(c):
            tiles.append(canvas[i * T:(i + 1) * T, j * T:(j + 1) * T])
            valid.append((min(T, max(0, nh - i * T)), min(T, max(0, nw - j * T))))
    return (r, c), thumb, np.stack(tiles), np.array(valid, dtype=np.int32)


def heldout_samples(tokenizer, folder=os.path.join(HERE, "heldout"), name="screenspot_heldout.json"):
    """A held-out set per image: {img_filename: (tiles, grid, thumb, (W, H))} and the ScreenSpot samples."""
    with open(os.path.join(folder, name)) as f:
        samples = json.load(f)
    images = {}
    for name in sorted({s["img_filename"] for s in samples}):
        img = Image.open(os.path.join(folder, name)).convert("RGB")
        grid, _, thumb, tiles = anyres_ref.tile_tensor(img, nano.ANYRES)
        images[name] = (tiles, list(grid), thumb, img.size)
    return images, samples
