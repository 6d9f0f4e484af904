#!/usr/bin/env python3
"""A full-size bluelm_vl checkpoint with random weights, stored as bf16 safetensors shards, for
`gui-agent bench vlm` (make bench-full).

    scripts/bench/make_bluelm_full.py [-o DIR] [--seed S] [--shard-gb G]

The dimensions are the binding format's (docs/checkpoint-format.md): a SigLIP so400m tower
(1152 wide, 27 layers, MLP 4304, 16 heads, 378 px tiles of 14 px patches), the 2x2 adapter, and a
Llama decoder 2560 wide, 30 layers, 20 query / 4 key-value heads of 128, MLP 6912, vocabulary
100096, untied lm_head: about 3.0e9 parameters, about 6 GB in bf16.

Weights are normal * 0.02 (biases zero, LayerNorm / RMSNorm weights one), drawn directly in bf16
one tensor at a time and written straight into the shard files (header first, then each tensor's
bytes), so the script never holds more than one tensor: at most the embedding table, 0.5 GB.
Shards of about --shard-gb GB with model.safetensors.index.json, as Hugging Face writes them.

tokenizer.json is the tiny test fixture's byte-level BPE (Tests/GroundingTests/Fixtures/
tiny-bluelm, 480 tokens with every special token the format names): the format lets the
model's vocabulary be larger than the tokenizer's, as published checkpoints pad theirs. Generated
ids above the tokenizer's decode to nothing, which does not matter to timing.

bench_model.json records the dimensions and the seed; it is written last, so its presence means the
folder is complete, and an existing complete folder made with the same arguments is kept. The
folder goes to ${GUI_AGENT_CACHE:-~/.cache/gui-agent}/bench/bluelm-full by default; its path is
printed on stdout.
"""
import argparse
import json
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
import fixture_env  # noqa: E402

fixture_env.enter(__file__, ["torch", "numpy"])

import torch  # noqa: E402

TOKENIZER = os.path.join(ROOT, "Tests", "GroundingTests", "Fixtures", "tiny-bluelm", "tokenizer.json")
VISION = dict(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16,
              image_size=378, patch_size=14, layer_norm_eps=1e-6, hidden_act="gelu_pytorch_tanh", num_channels=3)
TEXT = dict(model_type="llama", hidden_size=2560, intermediate_size=6912, num_hidden_layers=30,
            num_attention_heads=20, num_key_value_heads=4, head_dim=128, rms_norm_eps=1e-6,
            rope_theta=1000000.0, vocab_size=100096, max_position_embeddings=32768,
            tie_word_embeddings=False, attention_bias=False)
CONFIG = {
    "model_type": "bluelm_vl", "vision_config": VISION, "text_config": TEXT,
    "projector": {"downsample": 2, "hidden_act": "gelu"},
    "anyres": {"tile_size": 378, "max_rows": 4, "max_cols": 4, "max_tiles": 16, "thumbnail": True,
               "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "resample": "bicubic"},
    "tokens": {"image_start": "<|image_start|>", "image_end": "<|image_end|>",
               "tile_newline": "<|tile_newline|>", "image_pad": "<|image_pad|>",
               "think_start": "[|BlueThink|]", "think_end": "[|/BlueThink|]", "eos": "</s>"},
    "chat": {"user": "[|Human|]:{content}", "assistant": "[|AI|]:"},
    "coordinates": "norm1000",
}


def tensors():
    """(name, shape, kind) of every tensor, kind one of 'w' (normal * 0.02), 'one', 'zero'."""
    v, t = VISION, TEXT
    dv, p, g = v["hidden_size"], v["patch_size"], v["image_size"] // v["patch_size"]
    out = [("vision_model.embeddings.patch_embedding.weight", [dv, 3, p, p], "w"),
           ("vision_model.embeddings.patch_embedding.bias", [dv], "zero"),
           ("vision_model.embeddings.position_embedding.weight", [g * g, dv], "w")]
    for i in range(v["num_hidden_layers"]):
        pre = f"vision_model.encoder.layers.{i}."
        for norm in ("layer_norm1", "layer_norm2"):
            out += [(pre + norm + ".weight", [dv], "one"), (pre + norm + ".bias", [dv], "zero")]
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            out += [(pre + "self_attn." + proj + ".weight", [dv, dv], "w"), (pre + "self_attn." + proj + ".bias", [dv], "zero")]
        inner = v["intermediate_size"]
        out += [(pre + "mlp.fc1.weight", [inner, dv], "w"), (pre + "mlp.fc1.bias", [inner], "zero"),
                (pre + "mlp.fc2.weight", [dv, inner], "w"), (pre + "mlp.fc2.bias", [dv], "zero")]
    out += [("vision_model.post_layernorm.weight", [dv], "one"), ("vision_model.post_layernorm.bias", [dv], "zero")]
    d = t["hidden_size"]
    out += [("multi_modal_projector.linear_1.weight", [d, 4 * dv], "w"), ("multi_modal_projector.linear_1.bias", [d], "zero"),
            ("multi_modal_projector.linear_2.weight", [d, d], "w"), ("multi_modal_projector.linear_2.bias", [d], "zero")]
    q, kv, inner = t["num_attention_heads"] * t["head_dim"], t["num_key_value_heads"] * t["head_dim"], t["intermediate_size"]
    out.append(("language_model.model.embed_tokens.weight", [t["vocab_size"], d], "w"))
    for i in range(t["num_hidden_layers"]):
        pre = f"language_model.model.layers.{i}."
        out += [(pre + "input_layernorm.weight", [d], "one"), (pre + "post_attention_layernorm.weight", [d], "one"),
                (pre + "self_attn.q_proj.weight", [q, d], "w"), (pre + "self_attn.k_proj.weight", [kv, d], "w"),
                (pre + "self_attn.v_proj.weight", [kv, d], "w"), (pre + "self_attn.o_proj.weight", [d, q], "w"),
                (pre + "mlp.gate_proj.weight", [inner, d], "w"), (pre + "mlp.up_proj.weight", [inner, d], "w"),
                (pre + "mlp.down_proj.weight", [d, inner], "w")]
    out += [("language_model.model.norm.weight", [d], "one"), ("language_model.lm_head.weight", [t["vocab_size"], d], "w")]
    return out


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def shards(specs, limit):
    """The tensors cut, in order, into groups of at most `limit` bytes (one tensor may exceed it)."""
    groups, current, size = [], [], 0
    for spec in specs:
        b = 2 * numel(spec[1])
        if current and size + b > limit:
            groups.append(current)
            current, size = [], 0
        current.append(spec)
        size += b
    if current:
        groups.append(current)
    return groups


def write_shard(path, specs, gen):
    header, offset = {}, 0
    for name, shape, _ in specs:
        b = 2 * numel(shape)
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + b]}
        offset += b
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    with open(path + ".part", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name, shape, kind in specs:
            if kind == "w":
                x = torch.randn(shape, generator=gen, dtype=torch.bfloat16).mul_(0.02)
            else:
                x = (torch.ones if kind == "one" else torch.zeros)(shape, dtype=torch.bfloat16)
            f.write(x.contiguous().view(torch.int16).numpy().tobytes())
            del x
    os.replace(path + ".part", path)
    return offset


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", help="folder (default: $GUI_AGENT_CACHE/bench/bluelm-full)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shard-gb", type=float, default=2.0)
    args = ap.parse_args()
    cache = os.environ.get("GUI_AGENT_CACHE") or os.path.expanduser("~/.cache/gui-agent")
    out = args.out or os.path.join(cache, "bench", "bluelm-full")
    specs = tensors()
    record = {"reference": "bluelm_vl format, full size", "seed": args.seed, "shard_gb": args.shard_gb,
              "parameters": sum(numel(s) for _, s, _ in specs), "dtype": "bf16",
              "weights": "normal * 0.02 drawn in bf16 (torch.Generator seeded), biases 0, norm weights 1",
              "vision_config": VISION, "text_config": TEXT}
    marker = os.path.join(out, "bench_model.json")
    if os.path.exists(marker):
        old = json.load(open(marker))
        if all(old.get(k) == record[k] for k in ("seed", "shard_gb", "parameters", "vision_config", "text_config")):
            print(out)
            return
        sys.exit(f"{out} holds another checkpoint ({marker}); remove it or pass -o")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    gen = torch.Generator().manual_seed(args.seed)
    groups = shards(specs, int(args.shard_gb * 1e9))
    weight_map, total = {}, 0
    for k, group in enumerate(groups):
        name = f"model-{k + 1:05d}-of-{len(groups):05d}.safetensors"
        print(f"writing {name}: {len(group)} tensors", file=sys.stderr)
        total += write_shard(os.path.join(out, name), group, gen)
        weight_map.update({n: name for n, _, _ in group})
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    json.dump(index, open(os.path.join(out, "model.safetensors.index.json"), "w"), indent=2)
    json.dump(CONFIG, open(os.path.join(out, "config.json"), "w"), indent=2)
    shutil.copy(TOKENIZER, os.path.join(out, "tokenizer.json"))
    json.dump(record, open(marker, "w"), indent=2)  # last: its presence means the folder is complete
    print(out)


if __name__ == "__main__":
    main()
