#!/usr/bin/env python3
"""Checks that what export.py writes is what the Swift engine computes: a randomly drawn nano
model is exported (float16), read back into PyTorch, and its greedy answer to a grounding prompt
on a held-out screenshot is compared with `gui-agent ground` on the same directory.

The reference is transformers (SiglipVisionModel, LlamaForCausalLM) with Pillow's bicubic AnyRes
(scripts/fixtures/make_anyres_fixtures.py). For a comparison that cannot be blurred by
undecodable bytes or close calls, lm_head rows of special and non-ASCII tokens are zeroed and the
rest scaled up (the greedy margins are then large, and the answer is plain text).
Prints the grid, both answers, the smallest greedy margin and the Swift timings; exits 1 on a mismatch.

Usage: training/check_export.py [--image PNG] [--instruction TEXT] [--steps N] [--threads N]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, common.TORCH_PACKAGES)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

import export  # noqa: E402
import model as nano  # noqa: E402
import tokenizer as nano_tok  # noqa: E402
import make_anyres_fixtures as anyres_ref  # noqa: E402  (on sys.path through model.py)
import make_model_fixtures as model_ref  # noqa: E402

DEFAULT_IMAGE = os.path.join(HERE, "heldout", "gtk_heldout_000.png")


def drawn_model(tok):
    torch.manual_seed(5)
    net = nano.BlueLMNano(nano.nano_config(tok.get_vocab_size())).eval()
    model_ref.redraw(net)
    with torch.no_grad():
        head = net.language_model.lm_head.weight           # (vocab, D_lm)
        head.mul_(8.0)
        for i in range(tok.get_vocab_size()):
            s = tok.decode([i], skip_special_tokens=False)
            if tok.id_to_token(i) in nano_tok.SPECIALS or not (s.isascii() and s.isprintable() and s.strip()):
                head[i] = 0.0
    return net


def python_answer(net, tok, image, instruction, steps):
    cfg = net.config
    ids_of = {k: tok.token_to_id(v) for k, v in cfg["tokens"].items()}
    anyres_ref.IDS = ids_of
    text = cfg["chat"]["user"].replace("{content}", cfg["tokens"]["image_pad"] + instruction) + cfg["chat"]["assistant"]
    ids = tok.encode(text, add_special_tokens=False).ids
    (r, c), _, thumb, tiles = anyres_ref.tile_tensor(image, cfg["anyres"])
    layout = anyres_ref.token_layout(r, c, thumb, (net.g + 1) // 2)
    expanded = [t for i in ids for t in (layout if i == ids_of["image_pad"] else [i])]
    with torch.no_grad():
        embeds = net.embed(torch.tensor([expanded]), torch.from_numpy(tiles), ids_of["image_pad"])
        tokens, margins = model_ref.greedy(net.language_model, embeds, steps)
    return [r, c], tok.decode(tokens), min(margins)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", default=DEFAULT_IMAGE)
    ap.add_argument("--instruction", default="click the OK button")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tok = nano_tok.load_or_build()
    with tempfile.TemporaryDirectory() as d:
        export.export(drawn_model(tok), os.path.join(nano_tok.CACHE, "tokenizer.json"), d)
        net = nano.BlueLMNano(json.load(open(os.path.join(d, "config.json")))).eval()
        net.load_checkpoint_tensors(load_file(os.path.join(d, "model.safetensors")))  # the float16 values
        image = Image.open(args.image).convert("RGB")
        grid, py_answer, margin = python_answer(net, tok, image, args.instruction, args.steps)
        out = subprocess.run([common.gui_agent(), "ground", "--model", d, "--image", args.image, "--json",
                              "--threads", str(args.threads), "--max-tokens", str(args.steps), args.instruction],
                             check=True, capture_output=True, text=True).stdout
    swift = json.loads(out)
    print(f"check_export: {image.size[0]}x{image.size[1]}, grid python {grid} swift {swift['grid']}")
    print(f"  python {py_answer!r} (smallest greedy margin {margin:.3f})\n  swift  {swift['answer']!r}")
    print(f"  swift timings {json.dumps({k: round(v, 3) for k, v in swift['timings'].items()})}")
    ok = grid == swift["grid"] and py_answer == swift["answer"]
    print("check_export: " + ("the same answer" if ok else "MISMATCH"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
