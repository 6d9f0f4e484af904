"""The pointer head's point rule (docs/checkpoint-format.md), as the engine applies it, for the
training-time evaluation: keep the tile tokens scoring at least 0.3 of the best one (padding
cells left out), group them into regions of 4-neighbours on the AnyRes canvas grid, take the
region with the best mean score, and its score-weighted mean of token centres, mapped from the
canvas back to image pixels.
"""
import numpy as np

from windows import CELL, H_TOK, TILE, anyres_ref

THRESHOLD = 0.3


def hits(found, box):
    """Whether the point of `found` (point() or None) lies in `box` [x, y, w, h], edges included."""
    x, y, w, h = box
    return found is not None and x <= found["point"][0] <= x + w and y <= found["point"][1] <= y + h


def canvas_order(grid):
    """(tokens, 2) int: (canvas row, canvas col) of each tile token in the format's order."""
    r, c = grid
    out = []
    for i in range(r):
        for j in range(c):
            for a in range(H_TOK):
                for b in range(H_TOK):
                    out.append((i * H_TOK + a, j * H_TOK + b))
    return np.array(out)


def point(scores, grid, valid, W, H, threshold=THRESHOLD):
    """scores (tokens,) softmax over the tile tokens -> {"point": (x, y), "box": [x, y, w, h],
    "score": region mass} in image pixels, or None when no valid token scores."""
    rc = canvas_order(grid)
    s = np.where(np.asarray(valid) > 0, scores, 0.0)
    best = s.max()
    if best <= 0:
        return None
    R, C = grid[0] * H_TOK, grid[1] * H_TOK
    keep = np.zeros((R, C), dtype=bool)
    val = np.zeros((R, C))
    for t in np.flatnonzero(s >= threshold * best):
        keep[rc[t][0], rc[t][1]] = True
        val[rc[t][0], rc[t][1]] = s[t]
    seen = np.zeros_like(keep)
    regions = []
    for r0 in range(R):
        for c0 in range(C):
            if keep[r0, c0] and not seen[r0, c0]:
                cells, stack = [], [(r0, c0)]
                seen[r0, c0] = True
                while stack:
                    a, b = stack.pop()
                    cells.append((a, b))
                    for da, db in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                        u, v = a + da, b + db
                        if 0 <= u < R and 0 <= v < C and keep[u, v] and not seen[u, v]:
                            seen[u, v] = True
                            stack.append((u, v))
                total = sum(val[a, b] for a, b in cells)
                regions.append((total / len(cells), total, cells))
    mean, total, cells = max(regions, key=lambda g: (g[0], g[1]))  # first in row-major order on ties
    w = np.array([val[a, b] for a, b in cells])
    cy = float((w * np.array([(a + 0.5) * CELL for a, _ in cells])).sum() / w.sum())
    cx = float((w * np.array([(b + 0.5) * CELL for _, b in cells])).sum() / w.sum())
    nw, nh = anyres_ref.fit_size(W, H, grid[1] * TILE, grid[0] * TILE)
    sx, sy = W / nw, H / nh
    rows, cols = [a for a, _ in cells], [b for _, b in cells]
    box = [min(cols) * CELL * sx, min(rows) * CELL * sy, (max(cols) + 1 - min(cols)) * CELL * sx,
           (max(rows) + 1 - min(rows)) * CELL * sy]
    return {"point": (cx * sx, cy * sy), "box": box, "score": float(total)}
