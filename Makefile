# splatbench — `make run` runs the main job on the embedded default,
# `make test` runs the tests. Both do the set-up first (idempotent).

GO        ?= go
BIN       := bin/splatbench
CACHE     ?= $(or $(SPLATBENCH_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/splatbench)
export SPLATBENCH_CACHE := $(CACHE)
export CGO_ENABLED := 1
# NVRTC 11.8 from the set-up: `make ptx` compiles the kernels with it and
# the tests check the committed PTX is what it makes.
export SPLATBENCH_NVRTC ?= $(CACHE)/nvrtc-11.8/libnvrtc.so.11.2
export SPLATBENCH_REQUIRE_NVRTC := 1
# The same for ONNX Runtime and the ISNet models: missing, their tests fail.
export SPLATBENCH_REQUIRE_ORT := 1
# And for node and the outside SPZ implementations (setup-spz.sh).
export SPLATBENCH_REQUIRE_SPZJS := 1
# The set-up installs Chromium: browser tests fail, not skip, without it.
export SPLATBENCH_REQUIRE_BROWSER := 1
STAMP     := $(CACHE)/.setup-v2

.PHONY: all setup build run test vet fmt fuzz bench clean

all: build

$(STAMP): $(wildcard scripts/*.sh)
	bash scripts/setup.sh
	@touch $@

setup: $(STAMP)

# setup-gpu fetches ONNX Runtime's CUDA provider (npm, sha256) into the
# cache; not part of setup, so CPU machines never fetch it. docs/gpu.md.
.PHONY: setup-gpu
setup-gpu:
	bash scripts/setup-gpu.sh

build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/splatbench

run: setup build
	./$(BIN) tune

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

test: setup vet
	$(GO) test -count=1 ./...

# fuzz runs every fuzz target for FUZZTIME each.
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./...

clean:
	rm -rf bin

# ptx regenerates the embedded GPU kernels (pipeline/cuda/kernels/*.ptx,
# committed) from the .cu sources with NVRTC 11.8 from the set-up: PTX ISA
# 7.8 for compute_75, which drivers from R520 (CUDA 11.8) on load. No GPU,
# nvcc or host compiler needed. ptx-nvcc does the same with the machine's
# nvcc (ISA of that release, e.g. 9.0 from CUDA 13: drivers R580+), for
# comparing toolchains; commit only NVRTC 11.8 output.
.PHONY: ptx ptx-nvcc
ptx: setup
	$(GO) test -count=1 -run '^TestEmbeddedPTXIsCurrent$$' ./pipeline/cuda -update

NVCC     ?= nvcc
PTX_OUT  ?= pipeline/cuda/kernels
ptx-nvcc:
	mkdir -p $(PTX_OUT) && for f in pipeline/cuda/kernels/*.cu; do \
	  b=$$(basename $$f .cu); \
	  $(NVCC) -ptx -arch=compute_75 -O3 -o $(PTX_OUT)/$$b.ptx $$f || exit 1; \
	done
