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
1.0-1.09x, never downscaled (README: Config choice).

Deterministic: sample i of seed s is drawn from random.Random(f"ground:{s}:{i}") alone.
"""
import dataclasses
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
import make_anyres_fixtures as anyres_ref  # noqa: E402

sys.path.insert(0, HERE)
import model as nano  # noqa: E402  (ANYRES, VISION)
from tokenizer import CHAT, TOKENS  # noqa: E402

POOL = os.path.expanduser("~/.cache/gui-agent/training/pool")
CELL = 2 * nano.VISION["patch_size"]        # canvas pixels an adapter token covers (28)
TILE = nano.ANYRES["tile_size"]             # 224
H_TOK = TILE // CELL                        # 8 tokens a tile side


@dataclasses.dataclass(frozen=True)
class Curriculum:
    max_tiles: int = 4      # largest grid (rows * cols) of a crop
    min_height: int = 0     # smallest target box height in pixels


# MARK: - Geometry

def norm1000(v, size):
    """A pixel coordinate as the format's norm1000 integer (0-999); the engine maps back v * size / 1000."""
    return min(999, max(0, round(v * 1000 / size)))


def token_cells(box, sx, sy, origin):
    """The (row, col) token cells of an h x h tile grid overlapped (positive area) by `box`
    ([x, y, w, h] in crop pixels) after the resize's per-axis scales sx, sy (PIL maps the whole
    crop onto the whole resized image); origin = the tile's corner on the canvas."""
    x0, y0 = box[0] * sx - origin[0], box[1] * sy - origin[1]
    x1, y1 = (box[0] + box[2]) * sx - origin[0], (box[1] + box[3]) * sy - origin[1]
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
        parts.append(token_cells(box, thumb[0] / W, thumb[1] / H, (0, 0)).ravel())
    for i in range(r):
        for j in range(c):
            parts.append(token_cells(box, nw / W, nh / H, (j * TILE, i * TILE)).ravel())
    return np.concatenate(parts)


# MARK: - Prompt

def special_ids(tok):
    """The format's special token ids ({"image_pad": id, ...}); also set for token_layout."""
    ids = {k: tok.token_to_id(v) for k, v in TOKENS.items()}
    anyres_ref.IDS = ids  # token_layout reads the module's ids
    return ids


def prompt_ids(tok, instruction, grid, thumb):
    """The prompt with image_pad expanded to the token layout (list of ids), as the engine builds it."""
    ids_of = special_ids(tok)
    text = CHAT["user"].replace("{content}", TOKENS["image_pad"] + instruction) + CHAT["assistant"]
    layout = anyres_ref.token_layout(grid[0], grid[1], thumb, H_TOK)
    ids = tok.encode(text, add_special_tokens=False).ids
    return [t for i in ids for t in (layout if i == ids_of["image_pad"] else [i])]


# MARK: - Loader

class GroundingData:
    """Samples over the pool windows of one split (Tk w* and GTK g*)."""

    def __init__(self, tokenizer, pool=POOL, split="train", seed=0, curriculum=Curriculum()):
        self.tok, self.seed, self.cur = tokenizer, seed, curriculum
        self.files = sorted(glob.glob(os.path.join(pool, split, "*.json")))
        if not self.files:
            raise SystemExit(f"grounding_data: no pool windows in {os.path.join(pool, split)} "
                             "(run training/gen_toolkit_pool.py first)")
        self.ids = special_ids(tokenizer)
        self._records = {}

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
            bx, by, bw, bh = e["box"]
            grids = [(r, c) for r in range(1, 5) for c in range(1, 5) if r * c <= self.cur.max_tiles]
            r, c = rng.choice(grids)
            s = rng.uniform(0.92, 1.0)
            cw, ch = min(Wwin, round(c * TILE * s)), min(Hwin, round(r * TILE * s))
            if bw > cw or bh > ch:
                continue
            x0 = rng.randint(max(0, bx + bw - cw), min(bx, Wwin - cw))
            y0 = rng.randint(max(0, by + bh - ch), min(by, Hwin - ch))
            return k, e, rng.choice(e["instructions"]), [x0, y0, cw, ch]
        raise SystemExit("grounding_data: no element fits the curriculum " + str(self.cur))

    def sample(self, i):
        """Sample i: a dict with tiles (n, 3, T, T) float32, grid, thumb, input_ids (prompt),
        answer_ids, dense (image tokens,) uint8, box (crop pixels), point (norm1000), crop, window, instruction."""
        rng = random.Random(f"ground:{self.seed}:{i}")
        k, e, instruction, crop = self.pick(rng)
        x0, y0, cw, ch = crop
        img = Image.open(self.files[k][:-5] + ".png").convert("RGB").crop((x0, y0, x0 + cw, y0 + ch))
        grid, _, thumb, tiles = anyres_ref.tile_tensor(img, nano.ANYRES)
        box = [e["box"][0] - x0, e["box"][1] - y0, e["box"][2], e["box"][3]]
        px, py = norm1000(box[0] + box[2] / 2, cw), norm1000(box[1] + box[3] / 2, ch)
        return {"tiles": tiles, "grid": list(grid), "thumb": thumb,
                "input_ids": self.prompt_ids(instruction, grid, thumb),
                "answer_ids": self.answer_ids(px, py), "dense": dense_target(box, cw, ch, grid, thumb),
                "box": box, "point": [px, py], "crop": crop, "window": os.path.basename(self.files[k])[:-5],
                "instruction": instruction}


def heldout_samples(tokenizer, folder=os.path.join(HERE, "heldout")):
    """The held-out set per image: {img_filename: (tiles, grid, thumb, (W, H))} and the ScreenSpot samples."""
    with open(os.path.join(folder, "screenspot_heldout.json")) as f:
        samples = json.load(f)
    images = {}
    for name in sorted({s["img_filename"] for s in samples}):
        img = Image.open(os.path.join(folder, name)).convert("RGB")
        grid, _, thumb, tiles = anyres_ref.tile_tensor(img, nano.ANYRES)
        images[name] = (tiles, list(grid), thumb, img.size)
    return images, samples
