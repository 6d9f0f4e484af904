#!/usr/bin/env python3
"""Checks of the grounding stage that can fail:
- loader (grounding_data.py), over --samples samples (and a quarter as many of a 9-tile,
  tall-box curriculum): the answer decodes to "(x,y)</s>" and its point (mapped back as the
  engine maps norm1000) lies inside the target box, the box inside the crop and as tall as the
  curriculum asks, the grid within the curriculum, one tile per grid cell plus the thumbnail, one
  dense value per image_pad of the prompt, the dense target non-empty and equal to an independent
  computation (the box rasterised on the canvas, pooled by 28 x 28 cells, only cells the resized
  crop covers), and the same sample when drawn again from a fresh loader;
- a smoke run: cache_features.py on a few samples into a temporary folder, train_grounding.py for
  --minutes (default 1), the LM loss of its last curve line below its first;
- export + Swift: the checkpoint exported and scored by `gui-agent eval screenspot` on the first
  --swift-limit held-out samples (every sample scored, none skipped); the Python evaluator's
  answers on the same samples are compared with the Swift ones (agreement printed, not required:
  the engine runs float16 weights on pixels, Python float32 on cached features).

- composed screens, colour jitter and the uint8 tiles of train_device.py (check_screens_and_pixels).

Usage: training/selftest_grounding.py [--samples N] [--minutes M] [--swift-limit N] [--threads T] [--keep DIR]
       [--loader-only]
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, common.TORCH_PACKAGES)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import grounding_data as gd  # noqa: E402
import tokenizer as nano_tok  # noqa: E402
import train_grounding  # noqa: E402


# MARK: - Loader

def raster_dense(box, W, H, grid, thumb):
    """The dense target by rasterising: a pixel mask of the box on each tile's canvas (pixel
    (x, y) covered when its square [x, x+1) meets the box scaled to the resized crop, and it lies
    on the resized crop), any pixel of a 28 x 28 cell."""
    r, c = grid
    nw, nh = gd.anyres_ref.fit_size(W, H, c * gd.TILE, r * gd.TILE)

    def cells(cw, ch, rows, cols):
        mask = np.zeros((rows * gd.TILE, cols * gd.TILE), dtype=bool)
        xs, ys = np.arange(cols * gd.TILE) + 0.5, np.arange(rows * gd.TILE) + 0.5
        x0, x1 = box[0] * cw / W, (box[0] + box[2]) * cw / W
        y0, y1 = box[1] * ch / H, (box[1] + box[3]) * ch / H
        inside_x = (xs + 0.5 > x0) & (xs - 0.5 < x1) & (xs < cw)
        inside_y = (ys + 0.5 > y0) & (ys - 0.5 < y1) & (ys < ch)
        mask[np.ix_(inside_y, inside_x)] = True
        pooled = mask.reshape(rows * gd.H_TOK, gd.CELL, cols * gd.H_TOK, gd.CELL).any(axis=(1, 3))
        # (rows*8, cols*8) -> tiles row by row, each 8 x 8 row-major
        return [pooled[i * gd.H_TOK:(i + 1) * gd.H_TOK, j * gd.H_TOK:(j + 1) * gd.H_TOK].ravel()
                for i in range(rows) for j in range(cols)]

    parts = cells(thumb[0], thumb[1], 1, 1) if thumb else []
    return np.concatenate(parts + cells(nw, nh, r, c)).astype(np.uint8)


def check_loader(tok, n, cur):
    data, fresh = gd.GroundingData(tok, curriculum=cur), gd.GroundingData(tok, curriculum=cur)
    pad = tok.token_to_id(nano_tok.TOKENS["image_pad"])
    tiles_seen, positives = [], []
    for i in range(n):
        s = data.sample(i)
        x, y, w, h = s["box"]
        cw, ch = s["crop"][2:]
        where = f"sample {i} ({s['window']}, {s['instruction']!r})"
        assert tok.decode(s["answer_ids"], skip_special_tokens=False) == f"({s['point'][0]},{s['point'][1]})</s>", where
        px, py = s["point"][0] * cw / 1000, s["point"][1] * ch / 1000
        assert x <= px <= x + w and y <= py <= y + h, f"{where}: point {px, py} outside box {s['box']}"
        assert 0 <= x and x + w <= cw and 0 <= y and y + h <= ch, f"{where}: box {s['box']} outside crop {cw}x{ch}"
        assert h >= cur.min_height, f"{where}: box height {h} below the curriculum's {cur.min_height}"
        r, c = s["grid"]
        assert r * c <= cur.max_tiles and s["tiles"].shape == (r * c + (s["thumb"] is not None), 3, 224, 224), where
        n_img = s["input_ids"].count(pad)
        assert len(s["dense"]) == n_img, f"{where}: dense {len(s['dense'])} for {n_img} image tokens"
        assert s["dense"].sum() > 0, f"{where}: empty dense target"
        ref = raster_dense(s["box"], cw, ch, s["grid"], s["thumb"])
        assert np.array_equal(s["dense"], ref), \
            f"{where}: dense differs from the rasterised box at {np.flatnonzero(s['dense'] != ref)[:8]}"
        again = fresh.sample(i)
        same = again["instruction"] == s["instruction"] and np.array_equal(again["tiles"], s["tiles"])
        assert same, f"{where}: not deterministic"
        tiles_seen.append(s["tiles"].shape[0])
        positives.append(int(s["dense"].sum()))
    print(f"selftest_grounding: loader ok on {n} samples of {cur} (tiles a sample {min(tiles_seen)}-{max(tiles_seen)}, "
          f"mean {np.mean(tiles_seen):.1f}; positive image tokens {min(positives)}-{max(positives)}, "
          f"mean {np.mean(positives):.1f})")


def check_screens_and_pixels(tok, n):
    """Composed screens, colour jitter and the accelerator's uint8 tiles (train_device.py): the
    point inside the box, the box on the screen, the dense target equal to the rasterised one,
    an instruction that quotes the target's text, uint8 tiles normalised on the device's rule
    equal to tile_tensor's, and one position per image token inside the canvas' range."""
    import train_device as td
    # A box whose left edge falls exactly on a cell boundary after the resize (321 * 672 / 642 = 336
    # = 12 cells): with v * (w / W) it leaked into the cell before it.
    edge = ([321, 81, 74, 26], 642, 428, (2, 3), (224, 149))
    assert np.array_equal(gd.dense_target(*edge), raster_dense(*edge)), "a box on a cell boundary leaks"
    cur = gd.Curriculum(max_tiles=9, screens=0.5, jitter=0.5)
    data, screens = gd.GroundingData(tok, curriculum=cur), 0
    pad = tok.token_to_id(nano_tok.TOKENS["image_pad"])
    for i in range(n):
        s, u = data.sample(i), data.sample(i, pixels="uint8")
        where = f"sample {i} ({s['window']}, {s['instruction']!r})"
        x, y, w, h = s["box"]
        cw, ch = s["crop"][2:]
        px, py = s["point"][0] * cw / 1000, s["point"][1] * ch / 1000
        assert x <= px <= x + w and y <= py <= y + h and 0 <= x and x + w <= cw and 0 <= y and y + h <= ch, where
        assert np.array_equal(s["dense"], raster_dense(s["box"], cw, ch, s["grid"], s["thumb"])), where
        pixels = td.to_pixels(torch.from_numpy(u["tiles"]), torch.from_numpy(u["valid"]), "cpu").numpy()
        assert np.array_equal(pixels, s["tiles"]), f"{where}: uint8 tiles differ from tile_tensor's"
        assert s["positions"].shape == (s["input_ids"].count(pad), 2) and (s["positions"] > 0).all(), where
        if isinstance(s["window"], list):
            screens += 1
            assert (cw, ch) in gd.SCREENS, where
    assert 0 < screens < n, f"selftest_grounding: {screens} of {n} samples were screens at a share of 0.5"
    print(f"selftest_grounding: screens, jitter and uint8 tiles ok on {n} samples ({screens} whole screens)")


# MARK: - Smoke run, export, Swift

def smoke(tok, minutes, swift_limit, threads, folder):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cache, ckpt = os.path.join(folder, "features"), os.path.join(folder, "grounding")
    curve = os.path.join(folder, "curve.tsv")
    subprocess.run([sys.executable, os.path.join(HERE, "cache_features.py"), "--samples", "128", "--shard-size", "64",
                    "--threads", str(threads), "--out", cache], check=True, env=env)
    subprocess.run([sys.executable, os.path.join(HERE, "train_grounding.py"), "--cache", cache,
                    "--minutes", str(minutes),
                    "--threads", str(threads), "--eval-every", "15", "--eval-limit", "8", "--warmup", "20",
                    "--ckpt", ckpt, "--curve", curve], check=True, env=env)
    rows = [line.split("\t") for line in open(curve).read().splitlines()[1:]]
    lm = [float(r[2]) for r in rows if r[4] == "python"]
    assert len(lm) >= 2 and lm[-1] < lm[0], f"selftest_grounding: LM loss did not fall: {lm}"
    print(f"selftest_grounding: smoke run ok, LM loss {lm[0]:.3f} -> {lm[-1]:.3f} over {rows[-1][0]} steps")
    report, results = train_grounding.swift_eval(os.path.join(ckpt, "grounding.pt"), os.path.join(folder, "export"),
                                                 threads, swift_limit)
    assert report["n"] == swift_limit and report["skipped"] == 0, f"selftest_grounding: Swift report {report}"
    fc = train_grounding.FeatureCache(cache)
    net = train_grounding.export.from_checkpoint(os.path.join(ckpt, "grounding.pt"))
    _, _, answers = train_grounding.python_eval(net, tok, fc, fc.heldout["samples"][:swift_limit])
    same = sum(a == r["answer"] for a, r in zip(answers, results))
    print(f"selftest_grounding: export + Swift ok: {report['hits']}/{report['n']} hits, {report['no_coordinate']} "
          f"without a point; Python and Swift answers agree on {same}/{len(results)} "
          f"(e.g. python {answers[:2]}, swift {[r['answer'] for r in results[:2]]})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--minutes", type=float, default=1.0)
    ap.add_argument("--swift-limit", type=int, default=12)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--keep", help="a folder for the smoke run's files (default: a temporary one)")
    ap.add_argument("--loader-only", action="store_true", help="the loader checks alone (no smoke run)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tok = nano_tok.load_or_build()
    check_loader(tok, args.samples, gd.Curriculum(max_tiles=4))
    check_loader(tok, args.samples // 4, gd.Curriculum(max_tiles=9, min_height=20))
    check_screens_and_pixels(tok, args.samples // 4)
    if args.loader_only:
        print("selftest_grounding: loader checks passed")
        return
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        smoke(tok, args.minutes, args.swift_limit, args.threads, args.keep)
    else:
        with tempfile.TemporaryDirectory() as d:
            smoke(tok, args.minutes, args.swift_limit, args.threads, d)
    print("selftest_grounding: all checks passed")


if __name__ == "__main__":
    main()
