#!/usr/bin/env python3
"""GGUF pairs of Qwen2.5-VL beside llama.cpp's mtmd: speed per weight type, and what each type
costs in accuracy on our side. `make bench-gguf-pairs` runs it.

    scripts/bench/gguf_pairs.py [--bin .build/release/gui-agent] [--threads 2] [--runs 2]
                                [--types f16,q8_0,q4_k] [--decode-tokens 16] [--no-wait] [--smoke]

1. Pairs. The full-width, depth-cut Qwen2.5-VL-3B folder (random bf16, 4 vision + 4 decoder layers;
   scripts/bench/make_qwen_vl_bench_model.py, made when missing) and the tiny test fixture folder
   Tests/EngineTests/Fixtures/qwen-vl/qwen2_5_vl are converted with llama.cpp's own
   convert_hf_to_gguf.py (the vendored llama.cpp of llama-cpp-python 0.3.36, with the two patches of
   scripts/fixtures/make_qwen_vl_gguf_fixtures.py) to a language model at f16 and q8_0 and one
   mmproj at f16; q4_k is llama.cpp's own quantizer (llama_model_quantize through the bindings,
   LLAMA_FTYPE_MOSTLY_Q4_K_M: Q4_K with Q6_K for the embeddings / output and half of attn_v and
   ffn_down, as llama-quantize Q4_K_M writes it) from the f16 file. Every type is paired with the
   same f16 mmproj, so only the language model's weights differ between types. Cached under
   ${GUI_AGENT_CACHE:-~/.cache/gui-agent}/bench/gguf/<folder name>/, never in the repository;
   made once (made.json records the source and llama.cpp commit; delete the folder to remake).
2. The screenshot. Our command's synthetic 1920x1080 desktop, resized by our smart_resize (bicubic)
   with the folder's pixel budget and saved (--save-image) by the folder's reference run; both
   sides then get this PNG, which is on the grid (sides multiples of 28) and within llama.cpp's
   token limits, so llama.cpp does not resize it and both count the same image tokens.
3. Speed. After waiting for a quiet machine (1-minute load average below 0.6, polled every 30 s,
   at most 25 minutes; --no-wait skips), for each run and type one invocation of
   `gui-agent bench qwen-vl --json --model LM --mmproj MM --min-pixels --max-pixels --image PNG
   --anchor-cmd "... scripts/bench/qwen_vl_mtmd.py"`: ours, then llama.cpp's mtmd on the same files,
   image, prompt and thread count, back to back; the order of types alternates between runs.
   Medians over the runs; ratios are ours over llama.cpp as speed (> 1: ours faster).
4. Accuracy, on our side: the logits after the prompt and 16 greedy tokens of each pair against
   those of the folder it came from (bf16 weights, float32 arithmetic and KV cache: "f32"; the pairs
   run with the default f16 KV cache, as llama.cpp does), on the same prompt
   and image: max |logit diff| / max |logit| of the folder, the argmax, and how many of the 16
   greedy tokens agree (matching prefix). The same for llama.cpp's mtmd on the same pair, against
   our folder run, twice: with its defaults (as timed), and with the decoder's flash attention off
   (BENCH_FLASH_ATTN=disabled, the vision encoder's left on), since on CPU its flash attention
   accumulates in f16 and that, not the weight type, dominates its error on a 2,744-token prompt of
   this random model. The tiny fixture is compared through a copy of its folder whose vision
   window_size is 112 px (a GGUF pair stores no window; llama.cpp and our pair loader use 112, the
   fixture says 56), so that only the weight type differs.

--smoke runs everything on the tiny fixture only (a minute), to check the pipeline;
--accuracy-only skips the timed runs.
Prints the tables and writes every record to .../bench/gguf/results-<time>.json.
"""
import argparse
import datetime
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
import llamacpp_logits as lcl  # noqa: E402  (no side effects at import)

CACHE = os.environ.get("GUI_AGENT_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "gui-agent"))
OUT = os.path.join(CACHE, "bench", "gguf")
FIXTURE = os.path.join(ROOT, "Tests", "EngineTests", "Fixtures", "qwen-vl", "qwen2_5_vl")
TOOLING = ["torch", "transformers", "tokenizers", "safetensors", "sentencepiece", "pyyaml", "pillow", "numpy"]
TYPES = {  # our name -> how it is made, llama.cpp's name
    "f16": ("converter --outtype f16", "F16"),
    "q8_0": ("converter --outtype q8_0", "Q8_0"),
    "q4_k": ("llama_model_quantize LLAMA_FTYPE_MOSTLY_Q4_K_M from model-f16.gguf", "Q4_K_M"),
}
Q4_K_M = 15  # llama_ftype LLAMA_FTYPE_MOSTLY_Q4_K_M
QUIET_LOAD, QUIET_POLL_S, QUIET_MAX_S = 0.6, 30, 25 * 60


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# MARK: - Pairs

def source_stamp(folder):
    files = sorted(f for f in os.listdir(folder) if f.endswith((".safetensors", ".json", ".jinja")))
    return {f: [os.path.getsize(os.path.join(folder, f)), int(os.path.getmtime(os.path.join(folder, f)))] for f in files}


def quantize_stage(src, dst, threads):
    """Under the llama.cpp venv: llama.cpp's quantizer, Q4_K_M, from an f16 GGUF."""
    import ctypes
    import llama_cpp
    lcl.quiet_logs(level_min=4)
    llama_cpp.llama_backend_init()
    params = llama_cpp.llama_model_quantize_default_params()
    params.nthread = threads
    params.ftype = Q4_K_M
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    if rc != 0:
        raise SystemExit(f"llama_model_quantize {src} -> {dst} returned {rc}")


def make_pairs(folder, name, types, threads):
    """Converts `folder` to OUT/name/{model-T.gguf, mmproj-f16.gguf}; returns that directory."""
    import make_qwen_vl_gguf_fixtures as fx  # the converter with its two patches (tooling venv)
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    stamp_path = os.path.join(d, "made.json")
    stamp = {"source": os.path.abspath(folder), "files": source_stamp(folder), "llama_cpp_commit": lcl.llama_cpp_commit(),
             "types": {t: TYPES[t][0] for t in TYPES}}
    old = json.load(open(stamp_path)) if os.path.exists(stamp_path) else None
    if old is not None and {k: old.get(k) for k in ("source", "files", "llama_cpp_commit")} != \
            {k: stamp[k] for k in ("source", "files", "llama_cpp_commit")}:
        log(f"{d}: the source or llama.cpp changed; remaking")
        for f in os.listdir(d):
            if f.endswith(".gguf"):
                os.remove(os.path.join(d, f))
    wanted = [("mmproj-f16.gguf", "f16", True)] + [(f"model-{t}.gguf", t, False) for t in ("f16", "q8_0") if
                                                    t in types or (t == "f16" and "q4_k" in types)]
    for file, outtype, mmproj in wanted:
        path = os.path.join(d, file)
        if not os.path.exists(path):
            log(f"converting {folder} -> {path} ({outtype}{', mmproj' if mmproj else ''})")
            t0 = time.time()
            fx.run_convert(folder, path, outtype, mmproj)
            log(f"  {time.time() - t0:.0f} s")
    if "q4_k" in types and not os.path.exists(os.path.join(d, "model-q4_k.gguf")):
        src, dst = os.path.join(d, "model-f16.gguf"), os.path.join(d, "model-q4_k.gguf")
        log(f"quantizing {src} -> {dst} (llama.cpp Q4_K_M)")
        t0 = time.time()
        env = dict(os.environ, **{lcl.MARK: "1"})
        env.pop("GUI_AGENT_PYENV", None)
        subprocess.run([lcl.llamacpp_python(), os.path.abspath(__file__), "--stage", "quantize", src, dst,
                        "--threads", str(threads)], env=env, check=True)
        log(f"  {time.time() - t0:.0f} s")
    for f in ("bench_model.json", "preprocessor_config.json"):  # full depths and pixel budget beside the pair
        if os.path.exists(os.path.join(folder, f)):
            shutil.copyfile(os.path.join(folder, f), os.path.join(d, f))
    with open(stamp_path, "w") as f:
        json.dump(stamp, f, indent=1)
    return d


def window_112_copy(folder, name):
    """The tiny fixture folder with vision_config.window_size = 112 (the weights linked)."""
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(folder):
        src, dst = os.path.join(folder, f), os.path.join(d, f)
        if f == "config.json":
            config = json.load(open(src))
            config["vision_config"]["window_size"] = 112
            with open(dst, "w") as out:
                json.dump(config, out, indent=2)
        elif not os.path.lexists(dst):
            os.symlink(os.path.abspath(src), dst)
    return d


def pixel_budget(folder):
    p = json.load(open(os.path.join(folder, "preprocessor_config.json")))
    size = p.get("size") or {}
    return (p.get("min_pixels") or size.get("shortest_edge"), p.get("max_pixels") or size.get("longest_edge"))


# MARK: - Runs

def run_json(cmd):
    log("$ " + " ".join(shlex.quote(c) for c in cmd))
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-4000:] + r.stderr[-8000:])
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}")
    for line in r.stderr.splitlines():
        if line.strip():
            log("  " + line)
    return json.loads(r.stdout)


def ours_cmd(binary, model, threads, decode, image=None, mmproj=None, budget=None, logits=None, save_image=None,
             anchor=None, kv_cache=None):
    cmd = [binary, "bench", "qwen-vl", "--json", "--model", model, "--threads", str(threads),
           "--decode-tokens", str(decode)]
    if kv_cache:
        cmd += ["--kv-cache", kv_cache]
    if mmproj:
        cmd += ["--mmproj", mmproj]
    if budget:
        cmd += ["--min-pixels", str(budget[0]), "--max-pixels", str(budget[1])]
    if image:
        cmd += ["--image", image]
    if logits:
        cmd += ["--logits-out", logits]
    if save_image:
        cmd += ["--save-image", save_image]
    if anchor:
        cmd += ["--anchor-cmd", anchor]
    return cmd


def anchor_cmd(logits=None, save_prompt=None):
    py = shlex.quote(lcl.llamacpp_python())
    script = shlex.quote(os.path.join(HERE, "qwen_vl_mtmd.py"))
    prefix = f"BENCH_LOGITS_OUT={shlex.quote(logits)} " if logits else ""
    save = f"printf '%s' \"$BENCH_PROMPT\" > {shlex.quote(save_prompt)} && " if save_prompt else ""
    return f"{save}{prefix}{lcl.MARK}=1 {py} {script}"


def anchor_alone(lm, mm, image, prompt, threads, decode, logits, **settings):
    """The mtmd anchor by itself, with `settings` as its BENCH_ variables."""
    env = dict(os.environ, BENCH_MODEL=lm, BENCH_MMPROJ=mm, BENCH_IMAGE=image, BENCH_PROMPT=prompt,
               BENCH_THREADS=str(threads), BENCH_DECODE_TOKENS=str(decode), BENCH_LOGITS_OUT=logits,
               **{lcl.MARK: "1"}, **{f"BENCH_{k.upper()}": v for k, v in settings.items()})
    log(f"$ {' '.join(f'BENCH_{k.upper()}={v}' for k, v in settings.items())} qwen_vl_mtmd.py {os.path.basename(lm)}")
    r = subprocess.run([lcl.llamacpp_python(), os.path.join(HERE, "qwen_vl_mtmd.py")], env=env, capture_output=True,
                       text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr[-8000:])
        raise SystemExit(f"the mtmd anchor failed ({r.returncode}) on {lm}")
    return json.loads(r.stdout)


def wait_for_quiet(skip):
    if skip:
        return {"waited_s": 0, "skipped": True, "load_at_start": os.getloadavg()[0]}
    start = time.time()
    while True:
        load = os.getloadavg()[0]
        waited = time.time() - start
        if load < QUIET_LOAD:
            log(f"quiet: load average {load:.2f} after {waited:.0f} s")
            return {"waited_s": waited, "quiet": True, "load_at_start": load}
        if waited >= QUIET_MAX_S:
            log(f"NOT QUIET: load average still {load:.2f} after {waited / 60:.0f} min; running anyway")
            return {"waited_s": waited, "quiet": False, "load_at_start": load}
        log(f"waiting for a quiet machine: load average {load:.2f} ({waited:.0f} s so far)")
        time.sleep(QUIET_POLL_S)


# MARK: - Accuracy

def compare(ref_logits, ref_ids, logits, ids):
    import numpy as np
    a = np.fromfile(ref_logits, dtype="<f4")
    b = np.fromfile(logits, dtype="<f4")
    if a.shape != b.shape:
        return {"error": f"logits of {b.size} vs {a.size} values"}
    prefix = next((i for i, (x, y) in enumerate(zip(ref_ids, ids)) if x != y), min(len(ref_ids), len(ids)))
    return {"max_abs_diff": float(np.abs(a - b).max()), "ref_max_abs_logit": float(np.abs(a).max()),
            "rel_max_diff": float(np.abs(a - b).max() / np.abs(a).max()),
            "argmax_agrees": int(a.argmax()) == int(b.argmax()),
            "greedy_prefix_agree": prefix, "greedy_equal_positions": sum(x == y for x, y in zip(ref_ids, ids)),
            "greedy_tokens": len(ref_ids)}


def accuracy(binary, folder, pairs, budget, image, types, threads, decode, tag):
    """Ours on the folder (the reference; it also saves `image`, the synthetic screenshot at the
    folder's smart_resize size) and on each pair, llama.cpp on each pair; one pass each."""
    tmp = os.path.join(pairs, "accuracy")
    os.makedirs(tmp, exist_ok=True)
    ref_logits = os.path.join(tmp, "folder.bin")
    ref = run_json(ours_cmd(binary, folder, threads, decode, logits=ref_logits, save_image=image, kv_cache="f32"))
    rows = []
    for t in types:
        lm, mm = os.path.join(pairs, f"model-{t}.gguf"), os.path.join(pairs, "mmproj-f16.gguf")
        ours_logits, theirs_logits = os.path.join(tmp, f"ours-{t}.bin"), os.path.join(tmp, f"mtmd-{t}.bin")
        no_fa_logits, prompt_file = os.path.join(tmp, f"mtmd-decoder-fa-off-{t}.bin"), os.path.join(tmp, "prompt.txt")
        r = run_json(ours_cmd(binary, lm, threads, decode, image=image, mmproj=mm, budget=budget, logits=ours_logits,
                              anchor=anchor_cmd(theirs_logits, save_prompt=prompt_file)))
        if r["prompt_ids"] != ref["prompt_ids"]:
            log(f"warning: {tag} {t}: the pair's prompt ids differ from the folder's")
        with open(prompt_file) as f:
            prompt = f.read()
        no_fa = anchor_alone(lm, mm, image, prompt, threads, decode, no_fa_logits, flash_attn="disabled",
                             mtmd_flash_attn="auto")
        row = {"model": tag, "type": t, "prompt_ids_equal": r["prompt_ids"] == ref["prompt_ids"],
               "image_tokens": r["image_tokens"],
               "ours": compare(ref_logits, ref["greedy_ids"], ours_logits, r["greedy_ids"]),
               "llama_cpp": compare(ref_logits, ref["greedy_ids"], theirs_logits, r["anchor"]["greedy_ids"]),
               "llama_cpp_decoder_fa_off": compare(ref_logits, ref["greedy_ids"], no_fa_logits, no_fa["greedy_ids"]),
               "ours_vs_llama_cpp": compare(theirs_logits, r["anchor"]["greedy_ids"], ours_logits, r["greedy_ids"]),
               "ours_vs_llama_cpp_decoder_fa_off": compare(no_fa_logits, no_fa["greedy_ids"], ours_logits,
                                                           r["greedy_ids"]),
               "llama_cpp_settings": r["anchor"]["settings"], "llama_cpp_decoder_fa_off_settings": no_fa["settings"],
               "lm_tensor_types": r.get("lm_tensor_types")}
        rows.append(row)
    return {"folder_run": {k: ref[k] for k in ("image_tokens", "prompt_tokens", "greedy_ids", "family", "format")},
            "rows": rows}


# MARK: - Tables

def med(xs):
    return statistics.median(xs) if xs else float("nan")


def speed_table(records, types):
    head = ("| type (LM file) | LM tensor types | load ours / llama.cpp | ratio | TTFT ours / llama.cpp | ratio | "
            "vision ours / llama.cpp | ratio | prefill ours / llama.cpp | ratio | decode tok/s ours / llama.cpp | ratio | "
            "peak RSS MiB ours / llama.cpp | ratio |")
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for t in types:
        rs = [r for r in records if r["type"] == t]
        if not rs:
            continue

        def both(f):
            return med([f(r["ours"]) for r in rs]), med([f(r["anchor"]) for r in rs])
        load = both(lambda x: x["load_seconds"])
        ttft = both(lambda x: x["ttft_seconds"])
        vis = both(lambda x: x["vision_seconds"])
        pre = both(lambda x: x["prefill_seconds"])
        dec = both(lambda x: x["decode_tokens_per_s"])
        rss = both(lambda x: x["peak_rss_mib"])
        mix = ", ".join(f"{k} {v['tensors']}" for k, v in sorted(rs[0]["lm_tensor_types"].items(),
                                                                  key=lambda kv: -kv[1]["mib"]))
        mib = sum(v["mib"] for v in rs[0]["lm_tensor_types"].values())
        lines.append(
            f"| {t} ({mib:,.0f} MiB) | {mix} | {load[0]:.2f} s / {load[1]:.2f} s | {load[1] / load[0]:.2f}x | "
            f"{ttft[0]:.2f} s / {ttft[1]:.2f} s | {ttft[1] / ttft[0]:.2f}x | {vis[0]:.2f} s / {vis[1]:.2f} s | "
            f"{vis[1] / vis[0]:.2f}x | {pre[0]:.2f} s / {pre[1]:.2f} s | {pre[1] / pre[0]:.2f}x | "
            f"{dec[0]:.2f} / {dec[1]:.2f} | {dec[0] / dec[1]:.2f}x | {rss[0]:,.0f} / {rss[1]:,.0f} | {rss[0] / rss[1]:.2f}x |")
    return lines


def runs_table(records, types):
    lines = ["| type | run | ours TTFT | llama.cpp TTFT | ours decode tok/s | llama.cpp decode tok/s | load avg before |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in records:
        lines.append(f"| {r['type']} | {r['run']} | {r['ours']['ttft_seconds']:.2f} s | {r['anchor']['ttft_seconds']:.2f} s | "
                     f"{r['ours']['decode_tokens_per_s']:.2f} | {r['anchor']['decode_tokens_per_s']:.2f} | {r['load_before']:.2f} |")
    return lines


def accuracy_table(acc):
    lines = ["| model | type | side | max abs logit diff / max abs logit | argmax | greedy tokens agreeing (prefix / equal positions of 16) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for block in acc:
        for row in block["rows"]:
            for side, key in (("ours", "ours"), ("llama.cpp (defaults)", "llama_cpp"),
                              ("llama.cpp, decoder flash attention off", "llama_cpp_decoder_fa_off"),
                              ("ours vs llama.cpp (defaults)", "ours_vs_llama_cpp"),
                              ("ours vs llama.cpp, decoder flash attention off", "ours_vs_llama_cpp_decoder_fa_off")):
                c = row[key]
                if "error" in c:
                    lines.append(f"| {row['model']} | {row['type']} | {side} | {c['error']} | | |")
                    continue
                lines.append(f"| {row['model']} | {row['type']} | {side} | {c['max_abs_diff']:.4g} / {c['ref_max_abs_logit']:.4g} "
                             f"= {c['rel_max_diff']:.2e} | {'same' if c['argmax_agrees'] else 'differs'} | "
                             f"{c['greedy_prefix_agree']} / {c['greedy_equal_positions']} |")
    return lines


# MARK: - Main

def default_binary():
    for b in (os.path.join(ROOT, ".build", "release", "gui-agent"), os.path.join(ROOT, ".build-bench", "release", "gui-agent")):
        if os.path.exists(b):
            r = subprocess.run([b, "bench", "qwen-vl", "--help"], capture_output=True, text=True)
            if "--mmproj" in r.stdout + r.stderr and "--save-image" in r.stdout + r.stderr:
                return b
    raise SystemExit("no gui-agent build whose `bench qwen-vl` takes --mmproj and --save-image; build first "
                     "(swift build -c release) or pass --bin")


def cpu_flags():
    flags = set()
    model = None
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
            if line.startswith("model name") and model is None:
                model = line.split(":", 1)[1].strip()
    keep = ["sse4_2", "avx", "f16c", "fma", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
            "avx_vnni", "amx_bf16", "amx_int8"]
    return {"model": model, "flags": [k for k in keep if k in flags]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", help="gui-agent binary (default: a release build with the pair options)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--decode-tokens", type=int, default=16)
    ap.add_argument("--types", default="f16,q8_0,q4_k")
    ap.add_argument("--no-wait", action="store_true", help="do not wait for a quiet machine")
    ap.add_argument("--smoke", action="store_true", help="the tiny fixture only, for checking the pipeline")
    ap.add_argument("--pairs-only", action="store_true", help="make (or check) the pairs, then stop")
    ap.add_argument("--accuracy-only", action="store_true", help="skip the timed runs")
    ap.add_argument("--stage", choices=["all", "quantize"], default="all", help=argparse.SUPPRESS)
    ap.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage == "quantize":
        quantize_stage(args.rest[0], args.rest[1], args.threads)
        return
    types = [t for t in args.types.split(",") if t]
    for t in types:
        if t not in TYPES:
            raise SystemExit(f"unknown type {t} (known: {', '.join(TYPES)})")

    import fixture_env
    fixture_env.enter(__file__, TOOLING)  # the converter needs the tooling venv (re-executes once)
    started = datetime.datetime.now()

    # 1. Pairs.
    if args.smoke:
        bench_folder = None
    else:
        bench_folder = subprocess.run([sys.executable, os.path.join(HERE, "make_qwen_vl_bench_model.py"), "--family",
                                       "qwen2_5_vl", "--vision-layers", "4", "--text-layers", "4"],
                                      check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    fixture_pairs = make_pairs(FIXTURE, "fixture-qwen2_5_vl", types, args.threads)
    fixture_ref = window_112_copy(FIXTURE, "fixture-qwen2_5_vl-window112")
    timed_folder, timed_pairs = (FIXTURE, fixture_pairs) if args.smoke else \
        (bench_folder, make_pairs(bench_folder, os.path.basename(bench_folder.rstrip("/")), types, args.threads))
    if args.pairs_only:
        print(timed_pairs)
        return
    binary = args.bin or default_binary()

    # 2 + 4. Accuracy, which also saves the screenshots at each folder's smart_resize size.
    acc = []
    fixture_png = os.path.join(fixture_pairs, "screenshot.png")
    acc.append(accuracy(binary, fixture_ref, fixture_pairs, pixel_budget(FIXTURE), fixture_png, types, args.threads,
                        args.decode_tokens, "tiny fixture"))
    timed_png = fixture_png
    if not args.smoke:
        timed_png = os.path.join(timed_pairs, "screenshot.png")
        acc.append(accuracy(binary, bench_folder, timed_pairs, pixel_budget(bench_folder), timed_png, types,
                            args.threads, args.decode_tokens, "Qwen2.5-VL-3B widths, 4+4 layers"))

    # 3. Speed.
    quiet = wait_for_quiet(args.no_wait or args.smoke or args.accuracy_only)
    budget = pixel_budget(timed_folder)
    records = []
    for run in range(1, 0 if args.accuracy_only else args.runs + 1):
        for t in (types if run % 2 else list(reversed(types))):
            load_before = os.getloadavg()[0]
            r = run_json(ours_cmd(binary, os.path.join(timed_pairs, f"model-{t}.gguf"), args.threads,
                                  args.decode_tokens, image=timed_png,
                                  mmproj=os.path.join(timed_pairs, "mmproj-f16.gguf"), budget=budget,
                                  anchor=anchor_cmd()))
            records.append({"type": t, "run": run, "load_before": load_before, "ours": r["measured"] | {
                "load_seconds": r["load_seconds"], "peak_rss_mib": r["peak_rss_mib"]}, "anchor": r["anchor"],
                "lm_tensor_types": r["lm_tensor_types"], "image_tokens": r["image_tokens"],
                "prompt_tokens": r["prompt_tokens"], "anchor_prompt_tokens": r["anchor"]["prompt_tokens"],
                "image": r["image"], "warnings": r.get("warnings", [])})

    result = {"date": started.isoformat(timespec="seconds"), "binary": binary, "threads": args.threads,
              "runs": args.runs, "decode_tokens": args.decode_tokens, "cpu": cpu_flags(), "quiet": quiet,
              "timed_model": timed_folder, "pairs": timed_pairs, "screenshot": timed_png,
              "llama_cpp": lcl.llama_cpp_commit(), "types": {t: TYPES[t] for t in types},
              "records": records, "accuracy": acc}
    out = os.path.join(OUT, f"results-{started.strftime('%Y%m%d-%H%M%S')}.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=1)

    if records:
        first = records[0]
        print(f"\nGGUF pairs beside llama.cpp mtmd: {timed_folder}, {args.threads} threads, {args.runs} runs (medians), "
              f"image {first['image']['resized_width']}x{first['image']['resized_height']}, {first['image_tokens']} image "
              f"tokens, prompt {first['prompt_tokens']} (llama.cpp {first['anchor_prompt_tokens']}) tokens; "
              f"quiet: {quiet}; cpu: {result['cpu']}")
        print("\n".join(speed_table(records, types)))
        print()
        print("\n".join(runs_table(records, types)))
        print()
    print("\n".join(accuracy_table(acc)))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
