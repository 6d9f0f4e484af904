#!/usr/bin/env python3
"""A random-weight Qwen2.5-VL or Qwen3-VL folder at a published model's real widths, for
`gui-agent bench qwen-vl` (and its transformers anchor, scripts/bench/qwen_vl_transformers.py).

    scripts/bench/make_qwen_vl_bench_model.py --family qwen2_5_vl|qwen3_vl \
        --vision-layers N --text-layers M [-o DIR] [--seed S]

Every width, the vocabulary, the token ids, the rotary settings and the image processor's pixel
budget are those of the published checkpoint (the config.json and preprocessor_config.json of
Qwen/Qwen2.5-VL-3B-Instruct and Qwen/Qwen3-VL-2B-Instruct, copied into DIMS below); only the depth
is cut to N vision and M decoder layers, so that a small machine finishes. The cut keeps the
published structure valid:
  - Qwen2.5-VL: windowed vision blocks with every 8th block (7, 15, 23, 31 of 32) full attention;
    the reduced tower keeps that rule and makes its last block full attention, so both kinds of
    block are in every run of 2 layers or more.
  - Qwen3-VL: three DeepStack blocks (5, 11, 17 of 24) mapped to the same fractions of the reduced
    depth (all < N), distinct, so the three DeepStack mergers still run (N >= 3 and M >= 3; fewer
    otherwise, since each feature needs a decoder layer to be added after).

The model is transformers' Qwen2_5_VLForConditionalGeneration / Qwen3VLForConditionalGeneration
built from that config (its own random init under a fixed seed), stored as bfloat16 safetensors
with save_pretrained: the published layout, which the engine's loader reads as downloaded.

The tokenizer: there is no network here to fetch Qwen's 151k-token BPE, so tokenizer.json is the
byte-level BPE of the tiny test fixture (Tests/EngineTests/Fixtures/qwen-vl, 386 tokens) with
Qwen's 14 special tokens moved to their published ids 151643...151656, in `added_tokens` and in the
BPE vocabulary (the model's vocabulary stays 151936 rows). The image tokens are exact; the instruction text takes a few more tokens than
Qwen's tokenizer would give it (a handful in a prompt of thousands). chat_template.jinja is the
family's ChatML form: Qwen2.5-VL's published template (default system prompt), and for Qwen3-VL
the same without the default system prompt, as its published template renders a plain user turn.

bench_model.json records the reference model, the full depths (the command scales its timings to
them) and the seed. The folder goes to ${GUI_AGENT_CACHE:-~/.cache/gui-agent}/bench/ by default
and is made once: an existing folder made with the same arguments is kept. Its path is printed.
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

fixture_env.enter(__file__, ["torch", "transformers", "safetensors"])

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import (Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen3VLConfig,  # noqa: E402
                          Qwen3VLForConditionalGeneration)

FIXTURES = os.path.join(ROOT, "Tests", "EngineTests", "Fixtures", "qwen-vl")
FIXTURE_SPECIAL_BASE, QWEN_SPECIAL_BASE = 386, 151643  # <|endoftext|> in the fixture / in Qwen's vocabulary
SPECIAL_COUNT = 14                                     # <|endoftext|> ... <|video_pad|>
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

DIMS = {
    # Qwen/Qwen2.5-VL-3B-Instruct: config.json and preprocessor_config.json as published.
    "qwen2_5_vl": dict(
        reference="Qwen/Qwen2.5-VL-3B-Instruct",
        model=Qwen2_5_VLForConditionalGeneration, config=Qwen2_5_VLConfig,
        text=dict(hidden_size=2048, intermediate_size=11008, num_hidden_layers=36, num_attention_heads=16,
                  num_key_value_heads=2, rms_norm_eps=1e-6, max_position_embeddings=128000, vocab_size=151936,
                  hidden_act="silu", tie_word_embeddings=True, use_sliding_window=False,
                  rope_parameters={"rope_type": "default", "mrope_section": [16, 24, 24], "rope_theta": 1000000.0}),
        vision=dict(depth=32, hidden_size=1280, intermediate_size=3420, num_heads=16, in_channels=3, patch_size=14,
                    spatial_merge_size=2, temporal_patch_size=2, hidden_act="silu", window_size=112,
                    fullatt_block_indexes=[7, 15, 23, 31], out_hidden_size=2048, tokens_per_second=2),
        processor=dict(patch_size=14, temporal_patch_size=2, merge_size=2, image_mean=CLIP_MEAN, image_std=CLIP_STD,
                       size={"shortest_edge": 3136, "longest_edge": 12845056}),  # min_pixels, max_pixels
        system_prompt=True),
    # Qwen/Qwen3-VL-2B-Instruct: config.json and preprocessor_config.json as published.
    "qwen3_vl": dict(
        reference="Qwen/Qwen3-VL-2B-Instruct",
        model=Qwen3VLForConditionalGeneration, config=Qwen3VLConfig,
        text=dict(hidden_size=2048, intermediate_size=6144, num_hidden_layers=28, num_attention_heads=16,
                  num_key_value_heads=8, head_dim=128, rms_norm_eps=1e-6, max_position_embeddings=262144,
                  vocab_size=151936, hidden_act="silu", attention_bias=False, tie_word_embeddings=True,
                  rope_parameters={"rope_type": "default", "mrope_section": [24, 20, 20], "mrope_interleaved": True,
                                   "rope_theta": 5000000.0}),
        vision=dict(depth=24, hidden_size=1024, intermediate_size=4096, num_heads=16, in_channels=3, patch_size=16,
                    spatial_merge_size=2, temporal_patch_size=2, hidden_act="gelu_pytorch_tanh",
                    out_hidden_size=2048, num_position_embeddings=2304, deepstack_visual_indexes=[5, 11, 17]),
        processor=dict(patch_size=16, temporal_patch_size=2, merge_size=2, image_mean=[0.5] * 3, image_std=[0.5] * 3,
                       size={"shortest_edge": 65536, "longest_edge": 16777216}),
        system_prompt=False),
}

# Qwen2-VL / Qwen2.5-VL's published chat template (the fixtures' chat_template.jinja).
TEMPLATE_FILE = os.path.join(FIXTURES, "qwen2_5_vl", "chat_template.jinja")
DEFAULT_SYSTEM = ("{% if loop.first and message['role'] != 'system' %}<|im_start|>system\n"
                  "You are a helpful assistant.<|im_end|>\n{% endif %}")


def reduced_vision(family, vision, layers, text_layers):
    v = dict(vision)
    full = v["depth"]
    v["depth"] = layers
    if family == "qwen2_5_vl":
        # Every 8th block full attention (the published 7, 15, 23, 31), and the last one.
        v["fullatt_block_indexes"] = sorted({i for i in range(layers) if (i + 1) % 8 == 0} | {layers - 1})
    else:
        deepstack = sorted({min(layers - 1, i * layers // full) for i in v["deepstack_visual_indexes"]})
        # Each DeepStack feature is added after one decoder layer; the engine's loader wants a
        # layer for each (transformers would ignore the extra ones).
        if len(deepstack) > text_layers:
            print(f"note: {len(deepstack)} DeepStack blocks cut to {text_layers}, one per decoder layer", file=sys.stderr)
            deepstack = deepstack[:text_layers]
        v["deepstack_visual_indexes"] = deepstack
    return v


def tokenizer_files(out, family):
    """The fixture's tokenizer with Qwen's special tokens at their published ids."""
    src = os.path.join(FIXTURES, family)
    tok = json.load(open(os.path.join(src, "tokenizer.json")))
    moved = 0
    for t in tok["added_tokens"]:
        k = t["id"] - FIXTURE_SPECIAL_BASE
        if not 0 <= k < SPECIAL_COUNT:
            sys.exit(f"fixture tokenizer: added token {t['content']} has id {t['id']}, expected {FIXTURE_SPECIAL_BASE}+k")
        t["id"] = QWEN_SPECIAL_BASE + k
        # Also in the BPE vocabulary at that id: the tokenizers library numbers an added token
        # that the model's vocabulary lacks as the next free id (386...), whatever tokenizer.json says.
        tok["model"]["vocab"][t["content"]] = t["id"]
        moved += 1
    if moved != SPECIAL_COUNT or len(tok["model"]["vocab"]) != FIXTURE_SPECIAL_BASE + SPECIAL_COUNT:
        sys.exit("fixture tokenizer: unexpected layout (special tokens or BPE ids)")
    json.dump(tok, open(os.path.join(out, "tokenizer.json"), "w"), ensure_ascii=False, indent=2)
    shutil.copy(os.path.join(src, "tokenizer_config.json"), out)
    template = open(TEMPLATE_FILE).read()
    if DEFAULT_SYSTEM not in template:
        sys.exit(f"{TEMPLATE_FILE}: the default system prompt block is not where expected")
    if not DIMS[family]["system_prompt"]:
        template = template.replace(DEFAULT_SYSTEM, "")
    open(os.path.join(out, "chat_template.jinja"), "w").write(template)
    ids = {t["content"]: t["id"] for t in tok["added_tokens"]}
    return ids


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--family", choices=sorted(DIMS), required=True)
    ap.add_argument("--vision-layers", type=int, required=True)
    ap.add_argument("--text-layers", type=int, required=True)
    ap.add_argument("-o", "--out", help="folder (default: $GUI_AGENT_CACHE/bench/FAMILY-vN-tM)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    spec = DIMS[args.family]
    if not 1 <= args.vision_layers <= spec["vision"]["depth"] or not 1 <= args.text_layers <= spec["text"]["num_hidden_layers"]:
        ap.error(f"layers must be 1..{spec['vision']['depth']} (vision) and 1..{spec['text']['num_hidden_layers']} (text)")
    cache = os.environ.get("GUI_AGENT_CACHE") or os.path.expanduser("~/.cache/gui-agent")
    out = args.out or os.path.join(cache, "bench", f"{args.family}-v{args.vision_layers}-t{args.text_layers}")
    vision = reduced_vision(args.family, spec["vision"], args.vision_layers, args.text_layers)
    record = {
        "reference": spec["reference"], "family": args.family, "seed": args.seed,
        "vision_layers": args.vision_layers, "text_layers": args.text_layers,
        "full_vision_layers": spec["vision"]["depth"], "full_text_layers": spec["text"]["num_hidden_layers"],
        "full_fullatt_block_indexes": spec["vision"].get("fullatt_block_indexes"),
        "fullatt_block_indexes": vision.get("fullatt_block_indexes"),
        "deepstack_visual_indexes": vision.get("deepstack_visual_indexes"),
        "weights": "random (transformers' init, torch.manual_seed(seed)), bfloat16",
        "tokenizer": "fixture byte-level BPE (386 tokens) + Qwen's 14 special tokens at their published ids (added and in the vocab)",
        "transformers": transformers.__version__,
    }
    marker = os.path.join(out, "bench_model.json")
    if os.path.exists(marker) and json.load(open(marker)).get("tokenizer") != record["tokenizer"]:
        os.remove(marker)  # made by an earlier version of this script: made again
    if os.path.exists(marker):
        old = json.load(open(marker))
        if all(old.get(k) == record[k] for k in ("family", "seed", "vision_layers", "text_layers",
                                                  "fullatt_block_indexes", "deepstack_visual_indexes")):
            print(out)
            return
        sys.exit(f"{out} holds another bench model ({marker}); remove it or pass -o")
    os.makedirs(out, exist_ok=True)
    ids = tokenizer_files(out, args.family)
    text = {**spec["text"], "num_hidden_layers": args.text_layers, "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"]}
    config = spec["config"](
        text_config=text, vision_config=vision, tie_word_embeddings=True,
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    torch.manual_seed(args.seed)
    model = spec["model"](config).eval().to(torch.bfloat16)
    model.generation_config = transformers.GenerationConfig(
        bos_token_id=ids["<|endoftext|>"], pad_token_id=ids["<|endoftext|>"],
        eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]])
    model.save_pretrained(out)
    processor = {"do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True,
                 "image_processor_type": "Qwen2VLImageProcessor", "resample": 3,
                 "rescale_factor": 1 / 255, **spec["processor"]}
    json.dump(processor, open(os.path.join(out, "preprocessor_config.json"), "w"), indent=2)
    for name in os.listdir(out):
        os.chmod(os.path.join(out, name), 0o644)  # save_pretrained writes the weights 0600
    json.dump(record, open(marker, "w"), indent=2)  # last: its presence means the folder is complete
    print(out)


if __name__ == "__main__":
    main()
