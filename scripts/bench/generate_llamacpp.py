#!/usr/bin/env python3
"""Anchor for `gui-agent bench generate`: llama.cpp (llama-cpp-python) on the same GGUF file.

Usage:  ~/.cache/gui-agent/llamacpp/bin/python scripts/bench/generate_llamacpp.py \\
            --model FILE.gguf [--threads 2] [--prompt-tokens 128] [--decode-tokens 32]
(the venv is the one scripts/fixtures/make_smollm2_fixtures.py makes, with llama-cpp-python 0.3.36).
Without options, BENCH_MODEL, BENCH_THREADS, BENCH_PROMPT_TOKENS and BENCH_DECODE_TOKENS give the
values (as `gui-agent bench generate --anchor-cmd` sets them).

Feeds the ids of the engine's GenerateBenchmark: prompt token i = 100 + 37 i mod 10000, decode
step i = 200 + i; warms up with 8 tokens, times one prefill (one batch) and each decode step.
Prints one JSON line: {"prefill_tokens_per_s", "decode_tokens_per_s" (1 / median step),
"decode_ms_per_token", "threads", "prompt_tokens", "decode_tokens", "llama_cpp_python"}.
Times are wall-clock around llama-cpp-python's eval, so they include its small Python overhead.
"""
import argparse
import json
import os
import statistics
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    env = os.environ.get
    ap.add_argument("--model", default=env("BENCH_MODEL"))
    ap.add_argument("--threads", type=int, default=int(env("BENCH_THREADS", "2")))
    ap.add_argument("--prompt-tokens", type=int, default=int(env("BENCH_PROMPT_TOKENS", "128")))
    ap.add_argument("--decode-tokens", type=int, default=int(env("BENCH_DECODE_TOKENS", "32")))
    args = ap.parse_args()
    if not args.model:
        ap.error("--model FILE (or BENCH_MODEL) is required")
    try:
        import llama_cpp
        from llama_cpp import Llama
    except ImportError:
        print("llama-cpp-python is missing: run this with ~/.cache/gui-agent/llamacpp/bin/python", file=sys.stderr)
        return 2

    prompt = [100 + (i * 37) % 10000 for i in range(args.prompt_tokens)]
    steps = [200 + i for i in range(args.decode_tokens)]
    llm = Llama(model_path=args.model, n_ctx=args.prompt_tokens + args.decode_tokens + 16,
                n_batch=max(512, args.prompt_tokens), n_ubatch=max(512, args.prompt_tokens),
                n_threads=args.threads, n_threads_batch=args.threads, verbose=False)
    llm.eval(prompt[:8])
    llm.reset()

    start = time.perf_counter()
    llm.eval(prompt)
    prefill = args.prompt_tokens / (time.perf_counter() - start)
    times = []
    for token in steps:
        start = time.perf_counter()
        llm.eval([token])
        times.append(time.perf_counter() - start)
    step = statistics.median(times)
    print(json.dumps({"threads": args.threads, "prompt_tokens": args.prompt_tokens,
                      "decode_tokens": args.decode_tokens, "prefill_tokens_per_s": prefill,
                      "decode_tokens_per_s": 1 / step, "decode_ms_per_token": step * 1000,
                      "llama_cpp_python": llama_cpp.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
