# splatbench — `make run` runs the main job on the embedded default,
# `make test` runs the tests. Both do the set-up first (idempotent).

GO        ?= go
BIN       := bin/splatbench
CACHE     ?= $(or $(SPLATBENCH_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/splatbench)
export SPLATBENCH_CACHE := $(CACHE)
export CGO_ENABLED := 1
STAMP     := $(CACHE)/.setup-v1

.PHONY: all setup build run test vet fmt fuzz bench clean

all: build

$(STAMP): scripts/setup.sh
	bash scripts/setup.sh
	@touch $@

setup: $(STAMP)

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

# ptx regenerates the embedded GPU kernels from pipeline/cuda/kernels/*.cu
# (needs nvcc, so run it on a CUDA machine and commit the .ptx files).
NVCC     ?= nvcc
PTX_ARCH ?= compute_75
.PHONY: ptx
ptx:
	cd pipeline/cuda/kernels && for f in *.cu; do \
	  $(NVCC) -ptx -arch=$(PTX_ARCH) -O3 -o $${f%.cu}.ptx $$f || exit 1; \
	done
