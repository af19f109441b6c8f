# Two commands set everything up on a fresh machine:
#   make run    create .venv, install what is missing, run the main job on Fashion-MNIST
#   make test   create .venv, install what is missing, run the C and Python tests
# Nothing else is installed by hand.

PYTHON   ?= python3
VENV     := .venv
PY       := $(VENV)/bin/python
EDGECNN  := $(VENV)/bin/edgecnn
DATA_DIR ?= /usr/share/datasets/fashion-mnist
DATA_PKG := dataset-fashion-mnist
RUN_DIR  ?= runs/default
# Fuzzing (native/fuzz): `make fuzz` runs FUZZ_SECONDS; `make test` a bounded FUZZ_TEST_SECONDS session.
FUZZ_SECONDS      ?= 600
FUZZ_TEST_SECONDS ?= 60
FUZZ_PKGS         := clang libclang-rt-dev
# Edge targets (native `make cross`): cross compilers and qemu-user.
CROSS_PKGS        := gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf gcc-riscv64-linux-gnu qemu-user
# Packaging tests (CMake / pkg-config install, Arduino library on emulated Cortex-M, Zephyr module).
PACKAGING_PKGS    := cmake pkgconf gcc-arm-none-eabi picolibc-arm-none-eabi qemu-system-arm

# pip's build of the extension runs native/Makefile (`make pic`, every ISA directory): one compile
# job per core, as `make -C native test` runs its own.
JOBS     ?= $(shell nproc 2>/dev/null || echo 1)
PIP_MAKE := MAKEFLAGS=-j$(JOBS)

# Everything the Python build compiles or reads: a change re-installs the package.
INSTALL_INPUTS := pyproject.toml setup.py runtime/_build_ffi.py native/Makefile native/sources.mk \
                  $(shell find native/include native/src -name '*.[ch]')

.PHONY: run test lint format bench ablate venv venv-test data browser-deps native-test cross-deps native-cross packaging-deps lint-deps fuzz-deps fuzz fuzz-test pytest cortex-m clean help
.DEFAULT_GOAL := help

help:
	@echo "make run    the main job on Fashion-MNIST: train, export, quantize, compile, verify, bench, report"
	@echo "make test   run the C and Python test suites (sets everything up)"
	@echo "make lint   ruff, mypy and clang-format checks (make format rewrites the sources)"
	@echo "make bench  native vs onnxruntime vs LiteRT on the reference model and the tiny zoo (docs/benchmarks.md)"
	@echo "make ablate augmentation presets x training-set sizes (long: about an hour; docs/training.md)"
	@echo "make cortex-m  the int8 models on emulated Cortex-M4F and M55 (qemu): identical to host, instructions, flash, RAM"
	@echo "make fuzz   fuzz the C model loader for FUZZ_SECONDS (default 600) with libFuzzer + ASan/UBSan"
	@echo "make clean  remove build products (keeps .venv and runs/)"

# `make run` installs what the main job needs (the train extra); `make test` the test tools too
# (the dev extra). An install with both counts for both.
venv: $(VENV)/.installed
venv-test: $(VENV)/.installed-dev

$(VENV)/.installed: $(INSTALL_INPUTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PIP_MAKE) $(PY) -m pip install --quiet -e '.[train]'
	@touch $@

$(VENV)/.installed-dev: $(INSTALL_INPUTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PIP_MAKE) $(PY) -m pip install --quiet -e '.[train,dev]'
	@touch $@ $(VENV)/.installed

# Debian's dataset-fashion-mnist puts the IDX files in $(DATA_DIR).
data:
	@if [ -f "$(DATA_DIR)/train-images-idx3-ubyte.gz" ] || [ -f "$(DATA_DIR)/train-images-idx3-ubyte" ]; then \
		echo "data: Fashion-MNIST found in $(DATA_DIR)"; \
	elif [ "$(DATA_DIR)" != "/usr/share/datasets/fashion-mnist" ]; then \
		echo "data: no Fashion-MNIST IDX files in DATA_DIR=$(DATA_DIR)" >&2; exit 1; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "data: installing Debian package $(DATA_PKG)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DATA_PKG); \
	else \
		echo "data: Fashion-MNIST is missing. Install it with:" >&2; \
		echo "    sudo apt-get install $(DATA_PKG)" >&2; \
		echo "or point DATA_DIR at any MNIST-format folder: make run DATA_DIR=/path/to/idx" >&2; \
		exit 1; \
	fi

# The library's code size per edge target goes into the run report (native/build/size.json).
run: venv data cross-deps
	$(MAKE) -s -C native size MODELS=
	$(EDGECNN) pipeline --data $(DATA_DIR) --out $(RUN_DIR)

# Benchmark: native vs onnxruntime vs LiteRT on the reference model and the tiny zoo (docs/benchmarks.md).
BENCH_DIR   ?= runs/bench
BENCH_FLAGS ?=

bench: venv data
	$(EDGECNN) bench --run-dir $(RUN_DIR) --data $(DATA_DIR) --out $(BENCH_DIR) $(BENCH_FLAGS)

# $(call debs,CHECK,PACKAGES): the Debian packages a target needs. When the shell command CHECK
# fails they are installed (as root), or the exact apt-get command is printed and make stops.
define debs
	@$(1) >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = "0" ]; then \
			echo "$@: installing Debian packages $(2)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2); \
		else \
			echo "$@: missing Debian packages; install them with: sudo apt-get install $(2)" >&2; exit 1; \
		fi; }
endef

# Headless Chromium renders the run report in the tests.
browser-deps:
	$(call debs,command -v chromium,chromium)

# Cross compilers + qemu-user: the C tests for aarch64, armv7 and riscv64.
cross-deps:
	$(call debs,$(MAKE) -s -C native cross-deps,$(CROSS_PKGS))

# cmake, pkg-config, arm-none-eabi-gcc + picolibc, qemu-system-arm: the packaging tests.
packaging-deps:
	$(call debs,$(MAKE) -s -C native packaging-deps,$(PACKAGING_PKGS))

# clang + libFuzzer.
fuzz-deps:
	$(call debs,$(MAKE) -s -C native/fuzz check-clang,$(FUZZ_PKGS))

# clang-format: `make lint` checks the C sources.
lint-deps:
	$(call debs,command -v clang-format,clang-format)

native-test:
	$(MAKE) -C native test

# Python: ruff (lint and format) and mypy on the public API; C: clang-format (native/.clang-format).
# mypy reads the folders through links laid out as the package installs (it cannot follow
# pyproject's package-dir).
C_SOURCES = $(shell git ls-files 'native/*.c' 'native/*.h')
lint: venv-test lint-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	clang-format --dry-run -Werror $(C_SOURCES)
	rm -rf build/mypy && mkdir -p build/mypy/edgecnn
	ln -s $(addprefix ../../../,$(wildcard edgecnn/*.py edgecnn/*/)) build/mypy/edgecnn/
	for d in runtime export train; do ln -s ../../../$$d build/mypy/edgecnn/$$d; done
	$(PY) -m mypy

# Rewrites the sources in the house format (what `make lint` checks).
format: venv-test lint-deps
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	clang-format -i $(C_SOURCES)

native-cross: cross-deps
	$(MAKE) -C native cross

fuzz: fuzz-deps
	$(MAKE) -C native/fuzz fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)

# Every saved fuzz input (seeds + past crashes) once, then a short bounded session.
fuzz-test: fuzz-deps
	$(MAKE) -C native/fuzz replay
	$(MAKE) -C native/fuzz fuzz FUZZ_SECONDS=$(FUZZ_TEST_SECONDS)

# Augmentation presets x training-set sizes (docs/training.md); long: about an hour on 2 free cores.
ablate: venv data
	$(EDGECNN) ablate --data $(DATA_DIR) --out $(RUN_DIR)/ablation

# The int8 models on Cortex-M4F and Cortex-M55 under qemu-system-arm (native/cortex-m.mk).
cortex-m: venv-test data packaging-deps
	$(MAKE) --no-print-directory -f native/cortex-m.mk PY=$(abspath $(PY))

pytest: venv-test data
	EDGECNN_DATA=$(DATA_DIR) $(PY) -m pytest -q

test: venv-test data lint native-test native-cross fuzz-test browser-deps packaging-deps pytest

clean:
	$(MAKE) -C native clean
	rm -rf build runtime/_native*.so *.egg-info
