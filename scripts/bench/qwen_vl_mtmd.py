#!/usr/bin/env python3
"""The llama.cpp anchor of `gui-agent bench qwen-vl` for GGUF pairs: llama.cpp's mtmd (through
llama-cpp-python's ctypes bindings, CPU) on the same language-model GGUF + mmproj, image, prompt
and thread count, printing one JSON object on stdout with the fields of the transformers anchor
(scripts/bench/qwen_vl_transformers.py) that llama.cpp can measure.

Environment (set by the Swift command; the script re-executes itself under the llama.cpp venv,
see scripts/fixtures/llamacpp_logits.py):
  BENCH_MODEL          the language-model GGUF
  BENCH_MMPROJ         the mmproj GGUF
  BENCH_IMAGE          the screenshot (PNG); give it already on the grid (sides multiples of
                       patch x merge, within llama.cpp's 8..4096 merged tokens) so that llama.cpp
                       does not resize it and both sides see the same image tokens
  BENCH_PROMPT         the rendered prompt, the image written <|vision_start|><|image_pad|><|vision_end|>
                       (mtmd puts those tokens around the image itself); default: ChatML around
                       BENCH_INSTRUCTION without a system turn
  BENCH_THREADS        threads of the decoder and of the vision encoder (default 2)
  BENCH_DECODE_TOKENS  greedy decode steps after the prompt (default 16)
  BENCH_LOGITS_OUT     optional: write the logits after the prompt there (float32 LE)
  BENCH_N_BATCH / BENCH_N_UBATCH  llama.cpp's batch sizes (default 2048 / 512, its defaults)
  BENCH_FLASH_ATTN     auto (default, llama.cpp's), enabled or disabled: flash attention of the
                       decoder and (unless BENCH_MTMD_FLASH_ATTN says otherwise) of the vision encoder

llama.cpp runs as its own tools do: default context and mtmd parameters (flash attention "auto",
mtmd's warm-up at load), no GPU. What is timed, as on our side:
  load        llama_model_load_from_file + mtmd_init_from_file (the warm-up included) + the context
  preprocess  mtmd_tokenize: the text tokenized, the image cut into patches and normalized (the
              PNG is decoded before the clock starts, as both other sides do)
  vision      mtmd_encode_chunk on the image chunk (the tower and merger)
  prefill     every text chunk and the image embeddings decoded (mtmd_helper_eval_chunk_single,
              mtmd_helper_decode_image_chunk), logits of the last position only
  decode      one llama_decode per greedy token, the argmax over the vocabulary included; the
              rate is 1 / the median step
No per-block or per-layer times (llama.cpp has no hooks for them), so the Swift command compares
the measured depth only. Peak memory: getrusage ru_maxrss of this process.
"""
import ctypes
import json
import os
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fixtures"))
import llamacpp_logits as lcl  # noqa: E402  (no side effects at import)

PLACEHOLDER = "<|vision_start|><|image_pad|><|vision_end|>"


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        sys.exit(f"qwen_vl_mtmd.py: {name} is not set")
    return value


def main():
    import numpy as np
    import llama_cpp
    import llama_cpp.mtmd_cpp as mtmd

    model_path, mmproj_path, image_path = env("BENCH_MODEL"), env("BENCH_MMPROJ"), env("BENCH_IMAGE")
    threads = int(env("BENCH_THREADS", "2"))
    decode = int(env("BENCH_DECODE_TOKENS", "16"))
    instruction = env("BENCH_INSTRUCTION", "Click the Save button.")
    prompt = env("BENCH_PROMPT", "<|im_start|>user\n" + PLACEHOLDER + instruction + "<|im_end|>\n<|im_start|>assistant\n")
    n_batch, n_ubatch = int(env("BENCH_N_BATCH", "2048")), int(env("BENCH_N_UBATCH", "512"))
    flash_types = {"auto": llama_cpp.LLAMA_FLASH_ATTN_TYPE_AUTO, "enabled": llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED,
                   "disabled": llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED}
    flash_name = env("BENCH_FLASH_ATTN", "auto")
    if flash_name not in flash_types:
        sys.exit(f"qwen_vl_mtmd.py: BENCH_FLASH_ATTN is {flash_name!r}, not one of {sorted(flash_types)}")
    if prompt.count(PLACEHOLDER) != 1:
        sys.exit(f"qwen_vl_mtmd.py: BENCH_PROMPT holds {prompt.count(PLACEHOLDER)} image placeholders {PLACEHOLDER!r}, not 1")

    lcl.quiet_logs(level_min=4)
    llama_cpp.llama_backend_init()

    start = time.perf_counter()
    model = lcl.load_model(model_path)
    mparams = mtmd.mtmd_context_params_default()
    mparams.use_gpu = False
    mparams.print_timings = False
    mparams.n_threads = threads
    mtmd_flash_name = env("BENCH_MTMD_FLASH_ATTN", flash_name)
    if mtmd_flash_name not in flash_types:
        sys.exit(f"qwen_vl_mtmd.py: BENCH_MTMD_FLASH_ATTN is {mtmd_flash_name!r}, not one of {sorted(flash_types)}")
    mparams.flash_attn_type = flash_types[mtmd_flash_name]
    mctx = mtmd.mtmd_init_from_file(mmproj_path.encode(), model, mparams)
    if not mctx:
        sys.exit(f"qwen_vl_mtmd.py: mtmd could not load {mmproj_path}")
    cparams = llama_cpp.llama_context_default_params()
    n_ctx = 4096
    cparams.n_batch, cparams.n_ubatch, cparams.n_seq_max = n_batch, n_ubatch, 1
    cparams.n_threads = cparams.n_threads_batch = threads
    cparams.no_perf = True
    cparams.flash_attn_type = flash_types[flash_name]
    flash = {int(llama_cpp.LLAMA_FLASH_ATTN_TYPE_AUTO): "auto", int(llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED): "disabled",
             int(llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED): "enabled"}.get(int(cparams.flash_attn_type), "?")
    mtmd_flash = {int(llama_cpp.LLAMA_FLASH_ATTN_TYPE_AUTO): "auto", int(llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED): "disabled",
                  int(llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED): "enabled"}.get(int(mparams.flash_attn_type), "?")
    load_model_seconds = time.perf_counter() - start

    vocab = llama_cpp.llama_model_get_vocab(model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    bitmap = mtmd.mtmd_helper_bitmap_init_from_file(mctx, image_path.encode(), False)
    if not bitmap:
        sys.exit(f"qwen_vl_mtmd.py: mtmd could not read {image_path}")
    text = prompt.replace(PLACEHOLDER, mtmd.mtmd_default_marker().decode())
    data = text.encode("utf-8")
    chunks = mtmd.mtmd_input_chunks_init()

    start = time.perf_counter()
    itext = mtmd.mtmd_input_text(text=data, text_len=len(data), add_special=False, parse_special=True)
    bitmaps = (mtmd.mtmd_bitmap_p_ctypes * 1)(bitmap)
    rc = mtmd.mtmd_tokenize(mctx, chunks, ctypes.byref(itext), bitmaps, 1)
    preprocess = time.perf_counter() - start
    if rc != 0:
        sys.exit(f"qwen_vl_mtmd.py: mtmd_tokenize returned {rc}")
    n_tokens = int(mtmd.mtmd_helper_get_n_tokens(chunks))
    n_pos = int(mtmd.mtmd_helper_get_n_pos(chunks))
    # The context (its KV cache) sized to the prompt, as ours is; its creation counts as load.
    n_ctx = max(n_ctx, n_pos + decode + 16)
    cparams.n_ctx = n_ctx
    start = time.perf_counter()
    ctx = llama_cpp.llama_init_from_model(model, cparams)
    load_context_seconds = time.perf_counter() - start
    if not ctx:
        sys.exit("qwen_vl_mtmd.py: llama.cpp could not create a context")

    vision = prefill = 0.0
    image_tokens, grid = 0, None
    n_past = llama_cpp.llama_pos(0)
    count = mtmd.mtmd_input_chunks_size(chunks)
    for i in range(count):
        chunk = mtmd.mtmd_input_chunks_get(chunks, i)
        last = i == count - 1
        if mtmd.mtmd_input_chunk_get_type(chunk) == mtmd.MTMD_INPUT_CHUNK_TYPE_IMAGE:
            it = mtmd.mtmd_input_chunk_get_tokens_image(chunk)
            image_tokens += int(mtmd.mtmd_image_tokens_get_n_tokens(it))
            grid = [int(mtmd.mtmd_image_tokens_get_ny(it)), int(mtmd.mtmd_image_tokens_get_nx(it))]
            start = time.perf_counter()
            rc = mtmd.mtmd_encode_chunk(mctx, chunk)
            vision += time.perf_counter() - start
            if rc != 0:
                sys.exit(f"qwen_vl_mtmd.py: mtmd_encode_chunk returned {rc}")
            embd = mtmd.mtmd_get_output_embd(mctx)
            start = time.perf_counter()
            rc = mtmd.mtmd_helper_decode_image_chunk(mctx, ctx, chunk, embd, n_past.value, 0, n_batch,
                                                     ctypes.byref(n_past), mtmd.mtmd_helper_post_decode_callback(), None)
            prefill += time.perf_counter() - start
            if last:
                sys.exit("qwen_vl_mtmd.py: the prompt ends with the image; the logits need a text token after it")
        else:
            start = time.perf_counter()
            rc = mtmd.mtmd_helper_eval_chunk_single(mctx, ctx, chunk, n_past.value, 0, n_batch, last,
                                                    ctypes.byref(n_past))
            prefill += time.perf_counter() - start
        if rc != 0:
            sys.exit(f"qwen_vl_mtmd.py: evaluating chunk {i} returned {rc}")

    logits = lcl.logits_rows(ctx, n_vocab, [-1])[0]
    if os.environ.get("BENCH_LOGITS_OUT"):
        logits.astype("<f4").tofile(os.environ["BENCH_LOGITS_OUT"])
    pos, steps, greedy = n_past.value, [], []
    batch = llama_cpp.llama_batch_init(1, 0, 1)
    try:
        for k in range(decode):
            start = time.perf_counter()
            token = int(np.argmax(np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))))
            batch.n_tokens = 1
            batch.token[0], batch.pos[0], batch.n_seq_id[0], batch.logits[0] = token, pos + k, 1, 1
            batch.seq_id[0][0] = 0
            rc = llama_cpp.llama_decode(ctx, batch)
            steps.append(time.perf_counter() - start)
            if rc != 0:
                sys.exit(f"qwen_vl_mtmd.py: llama_decode returned {rc} at step {k}")
            greedy.append(token)
    finally:
        llama_cpp.llama_batch_free(batch)

    step = statistics.median(steps)
    info = lcl.version_info()
    result = {
        "anchor": "llama.cpp mtmd", "llama_cpp_python": info["llama_cpp_python"],
        "llama_cpp_commit": info["llama_cpp_commit"], "system_info": info["system_info"],
        "threads": threads, "model": model_path, "mmproj": mmproj_path,
        "settings": {"n_ctx": n_ctx, "n_batch": n_batch, "n_ubatch": n_ubatch, "flash_attn": flash,
                     "mtmd_flash_attn": mtmd_flash, "mtmd_warmup": bool(mparams.warmup), "use_mmap": True},
        "load_seconds": load_model_seconds + load_context_seconds,
        "load_model_mmproj_seconds": load_model_seconds, "load_context_seconds": load_context_seconds,
        "image_tokens": image_tokens, "grid_merged_hw": grid, "prompt_tokens": n_tokens, "prompt_positions": n_pos,
        "image_size": [int(mtmd.mtmd_bitmap_get_nx(bitmap)), int(mtmd.mtmd_bitmap_get_ny(bitmap))],
        "text_layers": int(llama_cpp.llama_model_n_layer(model)),
        "preprocess_seconds": preprocess, "vision_seconds": vision, "prefill_seconds": prefill,
        "ttft_seconds": preprocess + vision + prefill,
        "decode_step_seconds": step, "decode_tokens_per_s": 1 / step, "decode_steps_seconds": steps,
        "greedy_ids": greedy,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    mtmd.mtmd_bitmap_free(bitmap)
    mtmd.mtmd_input_chunks_free(chunks)
    llama_cpp.llama_free(ctx)
    mtmd.mtmd_free(mctx)
    llama_cpp.llama_model_free(model)
    print(json.dumps(result))


if __name__ == "__main__":
    lcl.enter(__file__)
    main()
