# gui-agent: the two commands of the README are `make demo` and `make test`.
# The toolchain lives in /opt/swift on this kind of machine; a login shell may not have it on PATH.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
SWIFT_FLAGS ?= -c release
BIN = .build/release/gui-agent

.PHONY: all deps build demo test test-training bench fuzz fuzz-smoke clean help

all: build

help:
	@echo "make demo   install what is missing, build, run the demo (an X11 app under Xvfb)"
	@echo "make test   install what is missing, build and run every test in release mode"
	@echo "make test-training  the training pipeline's checks: data, geometry, decoder against transformers, PyTorch against Swift"
	@echo "make build  build the gui-agent binary ($(BIN))"
	@echo "make bench  run the benchmarks (see BENCHMARKS.md)"
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
