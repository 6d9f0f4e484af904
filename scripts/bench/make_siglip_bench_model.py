#!/usr/bin/env python3
"""A random-weight `bluelm_vl` folder with the SigLIP so400m vision tower at its real widths, for
`gui-agent bench vision` (and its transformers anchor, scripts/bench/siglip_transformers.py).

    scripts/bench/make_siglip_bench_model.py [--vision-layers N] [--dtype float32|bfloat16]
        [-o DIR] [--seed S]

The tower is transformers' SiglipVisionModel at so400m's dimensions (hidden 1152, MLP 4304,
16 heads, 378 px tiles of 14 px patches: 729 patches; the bluelm_vl format's vision_config) with
the depth cut to N layers (default 4 of 27) so that a 2-core machine finishes. Its weights are
drawn as the model fixtures draw them (scripts/fixtures/make_model_fixtures.py `redraw`: matrices
~ N(0, 1/fan_in), norm weights ~ 1 + N(0, 0.01), other vectors ~ N(0, 0.01)), so that every
parameter matters and the two sides' agreement means something. No pooling head.

The text side only has to load: a one-layer Llama decoder 64 wide over the embedded model's
tokenizer (Models/bluelm-vl-nano/tokenizer.json, 268 tokens, whose special tokens the format
needs), and the adapter at the tower's width (linear_1: 64 x 4*1152).

Tensors in the format's names (vision_model.*, multi_modal_projector.*, language_model.*), stored
as float32 or bfloat16. bench_model.json records the depth, the full depth (27), the dtype and the
seed. The folder goes to ${GUI_AGENT_CACHE:-~/.cache/gui-agent}/bench/ by default and is made once:
an existing folder made with the same arguments is kept. Its path is printed.
"""
import argparse
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
import fixture_env  # noqa: E402

fixture_env.enter(__file__, ["torch", "transformers", "safetensors", "numpy"])

import torch  # noqa: E402
import transformers  # noqa: E402
from make_model_fixtures import redraw  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM, SiglipVisionConfig, SiglipVisionModel  # noqa: E402

# google/siglip-so400m-patch14-378 vision_config, as the bluelm_vl format names it.
SO400M = dict(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16,
              image_size=378, patch_size=14, layer_norm_eps=1e-6, hidden_act="gelu_pytorch_tanh", num_channels=3)
TOKENIZER = os.path.join(ROOT, "Models", "bluelm-vl-nano", "tokenizer.json")
TEXT = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=1, num_attention_heads=2,
            num_key_value_heads=1, head_dim=32, rms_norm_eps=1e-6, rope_theta=10000.0, vocab_size=268,
            max_position_embeddings=4096, tie_word_embeddings=False, attention_bias=False)
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def vision_model(layers):
    """SiglipVisionModel at so400m widths, `layers` deep, weights redrawn, no pooling head."""
    config = SiglipVisionConfig(**{**SO400M, "num_hidden_layers": layers}, vision_use_head=False,
                                attn_implementation="eager")
    model = SiglipVisionModel(config).eval()
    redraw(model)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vision-layers", type=int, default=4, help="encoder layers (1..27, default 4)")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="float32", help="stored type (default float32)")
    ap.add_argument("-o", "--out", help="folder (default: $GUI_AGENT_CACHE/bench/siglip-so400m-vN-DTYPE)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not 1 <= args.vision_layers <= SO400M["num_hidden_layers"]:
        ap.error(f"--vision-layers must be 1..{SO400M['num_hidden_layers']}")
    cache = os.environ.get("GUI_AGENT_CACHE") or os.path.expanduser("~/.cache/gui-agent")
    out = args.out or os.path.join(cache, "bench", f"siglip-so400m-v{args.vision_layers}-{args.dtype}")
    record = {
        "reference": "google/siglip-so400m-patch14-378 (vision tower widths)", "seed": args.seed,
        "vision_layers": args.vision_layers, "full_vision_layers": SO400M["num_hidden_layers"],
        "dtype": args.dtype,
        "weights": "random: transformers' SiglipVisionModel, redrawn as the model fixtures (torch.manual_seed(seed))",
        "transformers": transformers.__version__,
    }
    marker = os.path.join(out, "bench_model.json")
    if os.path.exists(marker):
        old = json.load(open(marker))
        if all(old.get(k) == record[k] for k in ("seed", "vision_layers", "dtype")):
            print(out)
            return
        sys.exit(f"{out} holds another bench model ({marker}); remove it or pass -o")
    os.makedirs(out, exist_ok=True)

    torch.manual_seed(args.seed)
    vision = vision_model(args.vision_layers)
    lm = LlamaForCausalLM(LlamaConfig(**TEXT)).eval()
    linear_1 = torch.nn.Linear(4 * SO400M["hidden_size"], TEXT["hidden_size"])
    linear_2 = torch.nn.Linear(TEXT["hidden_size"], TEXT["hidden_size"])
    for m in (lm, linear_1, linear_2):
        redraw(m)

    tensors = {}
    for k, p in vision.state_dict().items():
        tensors[k if k.startswith("vision_model.") else "vision_model." + k] = p
    for i, layer in enumerate((linear_1, linear_2), start=1):
        tensors[f"multi_modal_projector.linear_{i}.weight"] = layer.weight
        tensors[f"multi_modal_projector.linear_{i}.bias"] = layer.bias
    for k, p in lm.state_dict().items():
        tensors["language_model." + k] = p
    store = DTYPES[args.dtype]
    tensors = {k: p.detach().to(store).contiguous().clone() for k, p in tensors.items()}
    save_file(tensors, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    shutil.copy(TOKENIZER, os.path.join(out, "tokenizer.json"))

    config = {
        "model_type": "bluelm_vl",
        "vision_config": {**SO400M, "num_hidden_layers": args.vision_layers},
        "text_config": {"model_type": "llama", **TEXT},
        "projector": {"downsample": 2, "hidden_act": "gelu"},
        "anyres": {"tile_size": SO400M["image_size"], "max_rows": 4, "max_cols": 4, "max_tiles": 16,
                   "thumbnail": True, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
                   "resample": "bicubic"},
        "tokens": {"image_start": "<|image_start|>", "image_end": "<|image_end|>",
                   "tile_newline": "<|tile_newline|>", "image_pad": "<|image_pad|>",
                   "think_start": "[|BlueThink|]", "think_end": "[|/BlueThink|]", "eos": "</s>"},
        "chat": {"user": "[|Human|]:{content}", "assistant": "[|AI|]:"},
        "coordinates": "norm1000",
    }
    json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=2)
    for name in os.listdir(out):
        os.chmod(os.path.join(out, name), 0o644)  # save_file writes the weights 0600
    json.dump(record, open(marker, "w"), indent=2)  # last: its presence means the folder is complete
    print(out)


if __name__ == "__main__":
    main()
