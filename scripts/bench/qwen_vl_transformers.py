#!/usr/bin/env python3
"""The anchor of `gui-agent bench qwen-vl`: transformers on the CPU, on the same folder, image,
instruction and thread count, printing one JSON object on stdout.

Environment (set by the Swift command):
  BENCH_MODEL          the Qwen2-VL / Qwen2.5-VL / Qwen3-VL folder
  BENCH_IMAGE          the screenshot (PNG)
  BENCH_THREADS        torch.set_num_threads (default 2)
  BENCH_DECODE_TOKENS  decode steps after the first token (default 16)
  BENCH_INSTRUCTION    the grounding instruction (default "Click the Save button.")
  BENCH_TORCH_DTYPE    compute dtype: float32 (default; the stored bf16 weights are upcast at
                       load) or bfloat16
  BENCH_ATTN           attn_implementation (default sdpa, transformers' default)

What is timed, as on our side: preprocessing = the processor call (Pillow's bicubic resize to
smart_resize's size with the folder's min/max pixels, rescale, normalize, patches; the chat
template rendered and tokenized, image pads expanded; the slow PIL image processor, since the fast
one needs torchvision); then greedy `generate`: the vision tower (hooks on model.visual), the
prefill of the whole prompt (first forward, less the tower) = time to first token with the
preprocessing; each decode step is the time between two calls of a logits processor, and the
rate is 1 / the median step. Hooks on every vision block and decoder layer give the time in
layers, which the Swift command scales to full depth by the same rule as its own. min_new_tokens
keeps a random model from stopping early. Peak memory: getrusage ru_maxrss of this process
(imports and the float32 copy of the weights included).
"""
import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fixtures"))
import fixture_env  # noqa: E402

fixture_env.enter(__file__, ["torch", "transformers", "safetensors", "pillow"])

import torch  # noqa: E402
import transformers  # noqa: E402
from PIL import Image  # noqa: E402
from transformers import (AutoTokenizer, LogitsProcessor, Qwen2_5_VLForConditionalGeneration,  # noqa: E402
                          Qwen2_5_VLProcessor, Qwen2VLForConditionalGeneration, Qwen2VLProcessor,
                          Qwen3VLForConditionalGeneration, Qwen3VLProcessor)
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil  # noqa: E402
from transformers.processing_utils import ProcessorMixin  # noqa: E402

FAMILIES = {
    "qwen2_vl": (Qwen2VLForConditionalGeneration, Qwen2VLProcessor),
    "qwen2_5_vl": (Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor),
    "qwen3_vl": (Qwen3VLForConditionalGeneration, Qwen3VLProcessor),
}


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        sys.exit(f"qwen_vl_transformers.py: {name} is not set")
    return value


def make_processor(folder, processor_class):
    tokenizer = AutoTokenizer.from_pretrained(folder)
    image_processor = Qwen2VLImageProcessorPil.from_pretrained(folder)
    template = open(os.path.join(folder, "chat_template.jinja")).read() \
        if os.path.exists(os.path.join(folder, "chat_template.jinja")) else tokenizer.chat_template
    # No video processor: transformers' needs torchvision. The processor's class check is told so.
    check = ProcessorMixin.check_argument_for_proper_class
    ProcessorMixin.check_argument_for_proper_class = (
        lambda self, name, arg: None if name == "video_processor" and arg is None else check(self, name, arg))
    try:
        return processor_class(image_processor=image_processor, tokenizer=tokenizer, video_processor=None,
                               chat_template=template)
    finally:
        ProcessorMixin.check_argument_for_proper_class = check


class Clock:
    """Durations of hooked modules: (end time, seconds) per call."""

    def __init__(self):
        self.calls = []

    def hook(self, module):
        start = {}
        module.register_forward_pre_hook(lambda m, a: start.__setitem__("t", time.perf_counter()))
        module.register_forward_hook(lambda m, a, o: self.calls.append((time.perf_counter(),
                                                                        time.perf_counter() - start["t"])))


class Stamp(LogitsProcessor):
    """The time each step's logits come out."""

    def __init__(self):
        self.times = []

    def __call__(self, input_ids, scores):
        self.times.append(time.perf_counter())
        return scores


def main():
    folder = env("BENCH_MODEL")
    threads = int(env("BENCH_THREADS", "2"))
    decode = int(env("BENCH_DECODE_TOKENS", "16"))
    instruction = env("BENCH_INSTRUCTION", "Click the Save button.")
    dtype_name = env("BENCH_TORCH_DTYPE", "float32")
    attn = env("BENCH_ATTN", "sdpa")
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}.get(dtype_name)
    if dtype is None:
        sys.exit(f"BENCH_TORCH_DTYPE: {dtype_name} is not float32 or bfloat16")
    torch.set_num_threads(threads)
    config = json.load(open(os.path.join(folder, "config.json")))
    family = config.get("model_type")
    if family not in FAMILIES:
        sys.exit(f"{folder}: model_type {family} is not one of {sorted(FAMILIES)}")
    model_class, processor_class = FAMILIES[family]

    start = time.perf_counter()
    processor = make_processor(folder, processor_class)
    model = model_class.from_pretrained(folder, dtype=dtype, attn_implementation=attn).eval()
    load = time.perf_counter() - start
    image = Image.open(env("BENCH_IMAGE")).convert("RGB")
    image.load()

    visual = model.model.visual
    full_blocks = set(getattr(visual, "fullatt_block_indexes", None) or range(len(visual.blocks)))
    block_clocks = []
    for block in visual.blocks:
        c = Clock()
        c.hook(block)
        block_clocks.append(c)
    tower, layers = Clock(), Clock()
    tower.hook(visual)
    decoder = model.model.language_model.layers
    for layer in decoder:
        layers.hook(layer)

    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": instruction}]}]
    start = time.perf_counter()
    text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    inputs = processor(text=[text], images=[image], return_tensors="pt")
    preprocess = time.perf_counter() - start
    image_tokens = int((inputs["input_ids"] == model.config.image_token_id).sum())

    stamp = Stamp()
    with torch.inference_mode():
        start = time.perf_counter()
        model.generate(**inputs, max_new_tokens=decode + 1, min_new_tokens=decode + 1, do_sample=False,
                       logits_processor=[stamp], pad_token_id=model.generation_config.pad_token_id)
    if len(stamp.times) != decode + 1 or len(tower.calls) != 1:
        sys.exit(f"expected {decode + 1} steps and one vision pass, got {len(stamp.times)} and {len(tower.calls)}")
    vision = tower.calls[0][1]
    first = stamp.times[0]
    steps = [b - a for a, b in zip(stamp.times, stamp.times[1:])]
    step_layers = [sum(s for t, s in layers.calls if a < t <= b) for a, b in zip(stamp.times, stamp.times[1:])]
    order = sorted(range(decode), key=lambda i: steps[i])
    mid = order[decode // 2] if decode % 2 else None

    def median(xs):
        s = sorted(xs)
        return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2

    blocks = [c.calls[0][1] for c in block_clocks]
    prefill = first - start - vision
    result = {
        "anchor": "transformers", "transformers": transformers.__version__, "torch": torch.__version__,
        "dtype": dtype_name, "attn_implementation": attn, "threads": threads, "family": family,
        "load_seconds": load, "image_tokens": image_tokens, "prompt_tokens": int(inputs["input_ids"].shape[1]),
        "grid": inputs["image_grid_thw"][0].tolist(), "text_layers": len(decoder),
        "preprocess_seconds": preprocess, "vision_seconds": vision,
        "vision_window_block_seconds": [s for i, s in enumerate(blocks) if i not in full_blocks],
        "vision_full_block_seconds": [s for i, s in enumerate(blocks) if i in full_blocks],
        "prefill_seconds": prefill,
        "prefill_layer_seconds": sum(s for t, s in layers.calls if t <= first),
        "ttft_seconds": preprocess + vision + prefill,
        "decode_step_seconds": median(steps),
        # The layers' share of the median step (of that step itself when the count is odd).
        "decode_layer_seconds": step_layers[mid] if mid is not None else median(step_layers),
        "decode_tokens_per_s": 1 / median(steps),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
