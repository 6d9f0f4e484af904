#!/usr/bin/env python3
"""The anchor of `gui-agent bench vision`: transformers' SiglipVisionModel on the CPU (PyTorch
eager execution, float32, no_grad), loaded from the same bluelm_vl folder's vision_model.*
tensors, printing one JSON object on stdout.

Environment (set by the Swift command):
  BENCH_MODEL           the bluelm_vl folder (scripts/bench/make_siglip_bench_model.py)
  BENCH_THREADS         torch.set_num_threads (default 2)
  BENCH_TILES           tiles per forward pass (one batch; default 1)
  BENCH_RUNS            timed passes after one untimed warm-up pass (default 1)
  BENCH_SEED            seed of the random tiles (default 0)
  BENCH_ATTN            attn_implementation: sdpa (default, transformers' default) or eager
  BENCH_CHECK_TILE      optional: a (3, T, T) float32 LE tile, and
  BENCH_CHECK_FEATURES  the other side's last hidden state for it ((T/P)^2, D) float32 LE: the
                        max abs difference to ours is reported ("same weights" checked)

Timed: the model's forward on a (tiles, 3, T, T) batch of uniform random values in [-1, 1)
(the values do not change the work); hooks on the encoder layers give the time spent in layers,
which the Swift command scales to the full depth by the same rule as its own. tiles_per_s =
tiles / the median pass.
"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fixtures"))
import fixture_env  # noqa: E402

fixture_env.enter(__file__, ["torch", "transformers", "safetensors", "numpy"])

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from transformers import SiglipVisionConfig, SiglipVisionModel  # noqa: E402

PREFIX = "vision_model."


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        sys.exit(f"siglip_transformers.py: {name} is not set")
    return value


def load(folder, attn):
    """SiglipVisionModel from the folder's vision_config and vision_model.* tensors, float32."""
    v = json.load(open(os.path.join(folder, "config.json")))["vision_config"]
    config = SiglipVisionConfig(**v, vision_use_head=False, attn_implementation=attn)
    model = SiglipVisionModel(config).eval()
    stored = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".safetensors"):
            stored.update({k: t for k, t in load_file(os.path.join(folder, name)).items() if k.startswith(PREFIX)})
    # transformers 5.x may name the module's tensors without the prefix the format has.
    names = {k: k if k.startswith(PREFIX) else PREFIX + k for k in model.state_dict()}
    absent = sorted(n for n in names.values() if n not in stored)
    if absent:
        sys.exit(f"{folder}: vision tensors missing: {absent[:5]}")
    state = {k: stored[n].to(torch.float32) for k, n in names.items()}
    unused = sorted(set(stored) - set(names.values()) - {k for k in stored if k.startswith(PREFIX + "head.")})
    if unused:
        sys.exit(f"{folder}: vision tensors the model does not have: {unused[:5]}")
    model.load_state_dict(state, strict=True)
    return model, v


def main():
    folder = env("BENCH_MODEL")
    threads = int(env("BENCH_THREADS", "2"))
    tiles = int(env("BENCH_TILES", "1"))
    runs = int(env("BENCH_RUNS", "1"))
    seed = int(env("BENCH_SEED", "0"))
    attn = env("BENCH_ATTN", "sdpa")
    if tiles < 1 or runs < 1 or threads < 1:
        sys.exit("BENCH_TILES, BENCH_RUNS and BENCH_THREADS must be positive")
    torch.set_num_threads(threads)
    start = time.perf_counter()
    model, v = load(folder, attn)
    load_seconds = time.perf_counter() - start

    layer_time = [0.0]
    tower = getattr(model, "vision_model", model)  # transformers 5.x: no vision_model level
    for layer in tower.encoder.layers:
        begin = {}
        layer.register_forward_pre_hook(lambda m, a, b=begin: b.__setitem__("t", time.perf_counter()))
        layer.register_forward_hook(
            lambda m, a, o, b=begin: layer_time.__setitem__(0, layer_time[0] + time.perf_counter() - b["t"]))

    size = v["image_size"]
    gen = torch.Generator().manual_seed(seed)
    batch = torch.rand(tiles, v.get("num_channels", 3), size, size, generator=gen) * 2 - 1
    passes = []
    with torch.no_grad():
        model(pixel_values=batch)  # warm-up: first-call allocations and kernel selection
        for _ in range(runs):
            layer_time[0] = 0.0
            start = time.perf_counter()
            model(pixel_values=batch)
            passes.append((time.perf_counter() - start, layer_time[0]))
        passes.sort()
        seconds, layer_seconds = passes[len(passes) // 2]
        result = {
            "anchor": "transformers SiglipVisionModel", "transformers": transformers.__version__,
            "torch": torch.__version__, "dtype": "float32", "attn_implementation": attn,
            "threads": threads, "tiles": tiles, "runs": runs, "vision_layers": v["num_hidden_layers"],
            "load_seconds": load_seconds, "seconds": seconds, "layer_seconds": layer_seconds,
            "pass_seconds": [p[0] for p in passes], "tiles_per_s": tiles / seconds,
        }
        tile_file, features_file = os.environ.get("BENCH_CHECK_TILE"), os.environ.get("BENCH_CHECK_FEATURES")
        if tile_file and features_file:
            g = size // v["patch_size"]
            tile = torch.from_numpy(np.fromfile(tile_file, dtype="<f4").reshape(1, 3, size, size).copy())
            other = np.fromfile(features_file, dtype="<f4").reshape(g * g, v["hidden_size"])
            ours = model(pixel_values=tile).last_hidden_state[0].numpy()
            result["check_max_abs_diff"] = float(np.abs(ours - other).max())
            result["check_max_abs"] = float(np.abs(ours).max())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
