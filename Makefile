# gui-agent: the two commands of the README are `make demo` and `make test`.
# The toolchain lives in /opt/swift on this kind of machine; a login shell may not have it on PATH.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
SWIFT_FLAGS ?= -c release
# The CPU the numeric modules are compiled for: haswell (AVX2 + FMA, portable) unless set, e.g.
# TARGET_CPU=native for this machine's own instructions (use a separate build folder for it).
TARGET_CPU ?=
export GUI_AGENT_TARGET_CPU = $(TARGET_CPU)
BIN = .build/release/gui-agent

.PHONY: all deps build demo test test-slurm test-training bench bench-decode bench-qwen-vl bench-gguf-pairs bench-vision bench-full fuzz fuzz-smoke clean help

all: build

help:
	@echo "make demo   install what is missing, build, run the demo (an X11 app under Xvfb)"
	@echo "make test   install what is missing, build and run every test in release mode"
	@echo "make test-slurm  a private one-node Slurm cluster: sharded eval and scenario runs, merged, equal to one machine's"
	@echo "make test-training  the training pipeline's checks: data, geometry, decoder against transformers, PyTorch against Swift"
	@echo "make build  build the gui-agent binary ($(BIN))"
	@echo "make bench  run the benchmarks (see BENCHMARKS.md)"
	@echo "make bench-decode  SmolLM2-135M Q4_1 / Q8_0 / Q4_K_M decode and prefill beside llama.cpp, with the read bandwidth"
	@echo "make bench-qwen-vl  Qwen2.5-VL-3B / Qwen3-VL-2B widths (random weights, depth cut): TTFT on a 1920x1080 screenshot beside transformers"
	@echo "make bench-vision  the SigLIP so400m vision tower (random weights, depth cut) beside transformers' SiglipVisionModel, and its share of sgemm"
	@echo "make bench-full  a full-size bluelm_vl checkpoint (bf16, random weights): peak RSS / file size, TTFT on 1920x1080, decode and its bandwidth share"
	@echo "make bench-gguf-pairs  Qwen2.5-VL GGUF pairs (f16, q8_0, q4_k) beside llama.cpp's mtmd: speed, and accuracy against the folder"
	@echo "make fuzz   build the libFuzzer targets and run each for FUZZ_SECONDS (default 60; see fuzz/README.md)"
	@echo "make fuzz-smoke  replay each fuzz target's seeds and regression inputs once (CI: they keep building and pass)"

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build $(SWIFT_FLAGS) --product gui-agent

demo: build
	scripts/demo

# Numeric code is only meaningful optimized: every test runs in release mode.
test: deps
	scripts/fetch-models >/dev/null
	scripts/with-xvfb $(SWIFT) test $(SWIFT_FLAGS)
	python3 training/selftest_realapps.py

# Sharded runs on a real one-node Slurm cluster started for the test (scripts/test-slurm):
# skipped with a reason where its daemons cannot run.
test-slurm: build
	scripts/test-slurm

# The training pipeline (training/README.md): a small fresh pool of Tk and GTK windows, the data and
# decoder checks (selftest.py, transformers from PyPI), and the embedded model evaluated by PyTorch
# and by the Swift engine on both held-out sets, their agreement asserted (evaluate.py --check).
TRAINING_POOL ?= $${GUI_AGENT_CACHE:-$$HOME/.cache/gui-agent}/selftest-pool
test-training: build
	scripts/install-deps training
	/usr/bin/python3 training/gen_toolkit_pool.py --out $(TRAINING_POOL) --count 24 --seed 7
	/usr/bin/python3 training/gen_toolkit_pool.py --out $(TRAINING_POOL) --count 8 --seed 7 --toolkit gtk
	training/selftest.py --pool $(TRAINING_POOL)/train
	training/evaluate.py --check

# Benchmarks with their anchors side by side (python-mss for capture); see BENCHMARKS.md.
bench: build
	scripts/with-xvfb $(BIN) bench capture --anchor-cmd "$$(scripts/pyenv mss) scripts/bench/capture_mss.py --rgb -n \$$BENCH_ITERATIONS"
	$(BIN) bench engine --reduced
	python3 scripts/fixtures/make_smollm2_fixtures.py --venv-only
	$(BIN) bench generate --model "$$(scripts/fetch-models)/SmolLM2-135M-Instruct.Q4_1.gguf" --threads 1,2 \
	  --anchor-cmd "$${GUI_AGENT_CACHE:-$$HOME/.cache/gui-agent}/llamacpp/bin/python scripts/bench/generate_llamacpp.py"

# Decode and prefill beside llama.cpp on SmolLM2-135M-Instruct: the published Q4_1 file and its
# Q8_0 and Q4_K_M conversions (made by `gui-agent quantize`, cached in $GUI_AGENT_CACHE/bench/smollm2),
# 1 and 2 threads, BENCH_DECODE_RUNS times each, with the read bandwidth measured alongside.
# About 2 minutes per run. See BENCHMARKS.md.
BENCH_DECODE_RUNS ?= 2
bench-decode: build
	python3 scripts/fixtures/make_smollm2_fixtures.py --venv-only
	@models=$$(scripts/fetch-models) || exit 1; \
	cache=$${GUI_AGENT_CACHE:-$$HOME/.cache/gui-agent}; out=$$cache/bench/smollm2; mkdir -p $$out; \
	for t in q8_0 q4_k; do \
	  [ -f $$out/SmolLM2-135M-Instruct.$$t.gguf ] || \
	    $(BIN) quantize --model $$models/SmolLM2-135M-Instruct.Q4_1.gguf --type $$t -o $$out/SmolLM2-135M-Instruct.$$t.gguf || exit 1; \
	done; \
	for run in $$(seq $(BENCH_DECODE_RUNS)); do \
	  for f in $$models/SmolLM2-135M-Instruct.Q4_1.gguf $$out/SmolLM2-135M-Instruct.q8_0.gguf $$out/SmolLM2-135M-Instruct.q4_k.gguf; do \
	    echo "run $$run, load average: $$(cut -d' ' -f1-3 /proc/loadavg)"; \
	    $(BIN) bench generate --model $$f --threads 1,2 --prompt-tokens 512 --decode-tokens 64 \
	      --anchor-cmd "$$cache/llamacpp/bin/python scripts/bench/generate_llamacpp.py" || exit 1; \
	  done; \
	done

# Qwen-VL time to first token on a synthetic 1920x1080 screenshot, decode rate and peak memory,
# beside transformers on the CPU (float32) in the same run. Random-weight folders at the real widths
# of Qwen2.5-VL-3B-Instruct and Qwen3-VL-2B-Instruct, depth cut to QWEN_VL_VISION_LAYERS /
# QWEN_VL_TEXT_LAYERS (made once, cached in $GUI_AGENT_CACHE/bench); the command also estimates the
# full depth. About 4 minutes per family on 2 cores at the defaults. See BENCHMARKS.md.
QWEN_VL_VISION_LAYERS ?= 4
QWEN_VL_TEXT_LAYERS ?= 4
QWEN_VL_THREADS ?= 2
bench-qwen-vl: build
	@for family in qwen2_5_vl qwen3_vl; do \
	  dir=$$(scripts/bench/make_qwen_vl_bench_model.py --family $$family \
	    --vision-layers $(QWEN_VL_VISION_LAYERS) --text-layers $(QWEN_VL_TEXT_LAYERS)) || exit 1; \
	  echo "load average: $$(cut -d' ' -f1-3 /proc/loadavg)"; \
	  $(BIN) bench qwen-vl --model "$$dir" --threads $(QWEN_VL_THREADS) \
	    --anchor-cmd scripts/bench/qwen_vl_transformers.py || exit 1; \
	done

# The SigLIP vision tower at so400m widths (random weights, depth cut to VISION_LAYERS, stored as
# VISION_DTYPE; made once by scripts/bench/make_siglip_bench_model.py, cached in
# $GUI_AGENT_CACHE/bench) beside transformers' SiglipVisionModel on the CPU (float32), 1 and 2
# threads, 1 tile and a batch of 12, VISION_RUNS rounds interleaved; with the sgemm rate measured
# alongside, the full-depth (27 layers) estimate and the two sides' agreement on one tile.
# About 4 minutes on 2 cores at the defaults. See BENCHMARKS.md.
VISION_LAYERS ?= 4
VISION_DTYPE ?= float32
VISION_RUNS ?= 2
bench-vision: build
	@dir=$$(scripts/bench/make_siglip_bench_model.py --vision-layers $(VISION_LAYERS) --dtype $(VISION_DTYPE)) || exit 1; \
	echo "load average: $$(cut -d' ' -f1-3 /proc/loadavg)"; \
	$(BIN) bench vision --model "$$dir" --threads 1,2 --tiles 1,12 --rounds $(VISION_RUNS) \
	  --anchor-cmd scripts/bench/siglip_transformers.py

# Qwen2.5-VL as llama.cpp's GGUF pairs (language model f16 / q8_0 / Q4_K_M + mmproj f16, made by
# llama.cpp's converter and quantizer from the bench folder above and the tiny fixture, cached in
# $GUI_AGENT_CACHE/bench/gguf), ours beside llama.cpp's mtmd on the same files, screenshot and
# threads, after waiting for a quiet machine; and each type's logits against the folder's. About
# 40 minutes on 2 cores (the first time also the conversions). See BENCHMARKS.md.
GGUF_PAIRS_THREADS ?= 2
GGUF_PAIRS_RUNS ?= 2
# GGUF_PAIRS_ARGS: more options of the script, e.g. --no-wait (skip the wait for a quiet machine).
GGUF_PAIRS_ARGS ?=
bench-gguf-pairs: build
	scripts/bench/gguf_pairs.py --bin $(BIN) --threads $(GGUF_PAIRS_THREADS) --runs $(GGUF_PAIRS_RUNS) $(GGUF_PAIRS_ARGS)

# A full-size bluelm_vl checkpoint (the format's dimensions, ~3.0e9 parameters, bf16, random
# weights; made once by scripts/bench/make_bluelm_full.py, ~6 GB in $GUI_AGENT_CACHE/bench/bluelm-full)
# on the synthetic 1920x1080 screenshot: peak RSS against the weight files, time to first token in
# its parts, decode and its share of the read bandwidth; BENCH_FULL_RUNS runs. 2.5-7 minutes per
# run on 2 cores. See BENCHMARKS.md.
BENCH_FULL_RUNS ?= 2
BENCH_FULL_THREADS ?= 2
bench-full: build
	@dir=$$(scripts/bench/make_bluelm_full.py) || exit 1; \
	for run in $$(seq $(BENCH_FULL_RUNS)); do \
	  echo "run $$run, load average: $$(cut -d' ' -f1-3 /proc/loadavg)"; \
	  $(BIN) bench vlm --model "$$dir" --threads $(BENCH_FULL_THREADS) --decode-tokens 16 || exit 1; \
	done

# libFuzzer targets in a package of their own (fuzz/): the fuzz executable links only with
# -sanitize=fuzzer. FUZZ_TARGETS names some of them (default: all); see fuzz/README.md.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 0
FUZZ_TARGETS ?=

fuzz: deps
	SWIFT=$(SWIFT) fuzz/run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: deps
	SWIFT=$(SWIFT) fuzz/run $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf .build out
