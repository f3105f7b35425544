# Cairn: `make run` builds and starts a one-machine cluster (`cairn dev`);
# `make test` runs every test (unit, kernel, end to end). Both install what
# they need from Debian first (as root; see `deps`).

SHELL        := /bin/bash
GO           ?= go
BIN          := bin/cairn
GIT_SHA      := $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS      := -X github.com/cairnhq/cairn/version.GitSHA=$(GIT_SHA)
# A static binary: every task starts it twice (as its container's init and
# as its command executor), and skipping the dynamic loader saves 0.45 ms
# of CPU per start (10 %, perf stat of `cairn version`). The netgo and
# osusergo tags keep glibc's NSS out, which cannot work statically; the
# only C left is libcontainer's nsenter.
STATIC       := -tags netgo,osusergo -ldflags "$(LDFLAGS) -extldflags=-static"
GOTEST_FLAGS ?= -count=1 -timeout 40m
export CGO_ENABLED := 1

# Debian packages the build and the tests use: gcc for cgo (libcontainer's
# nsenter), iproute2 for the network-namespace test clusters, util-linux for
# nsenter, procps for the tests' process checks, systemd for the unit checks
# (systemd-analyze) and the test that boots systemd in a namespace.
DEB_PACKAGES := gcc libc6-dev iproute2 util-linux procps systemd
# Extra packages for `make proto` and `make bpf`.
DEB_PROTO    := protobuf-compiler
DEB_BPF      := clang llvm libbpf-dev

PREFIX       ?= /usr/local
DESTDIR      ?=

.PHONY: all build run test test-unit vet deps proto bpf bpf-check install clean

all: build

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing (run as root or install them)"; exit 1; fi; \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@command -v $(GO) >/dev/null || { echo "Go is not installed (need Go 1.26+)"; exit 1; }
	$(GO) mod download

build: deps
	$(GO) build $(STATIC) -o $(BIN) ./cmd/cairn

run: build
	./$(BIN) dev

vet:
	$(GO) vet ./...

# Every test. Kernel tests need root; with CAIRN_REQUIRE_KERNEL=1 (CI) a kernel
# test that cannot run fails instead of skipping. The end-to-end tests use the
# binary built here.
test: build vet bpf-check proto-check
	CAIRN_BIN=$(CURDIR)/$(BIN) $(GO) test $(GOTEST_FLAGS) ./...

test-unit:
	$(GO) test -count=1 -short ./...

proto:
	@dpkg -s $(DEB_PROTO) >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $(DEB_PROTO); }
	$(GO) generate ./api/...

# Checks the committed generated protobuf code matches the .proto files:
# regenerates it in place and fails on any difference but the version lines
# protoc-gen-go writes.
proto-check: proto
	git diff --exit-code -I '^//[[:space:]]+protoc' -I '^//[[:space:]]+protoc-gen-go' -- api

# Installs bin/cairn to $(PREFIX)/bin and the systemd units (see deploy/).
install: build
	BIN=$(CURDIR)/$(BIN) deploy/install.sh $(PREFIX) $(DESTDIR)

# Regenerates the committed eBPF objects and their Go bindings (bpf2go).
bpf:
	@dpkg -s $(DEB_BPF) >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $(DEB_BPF); }
	$(GO) generate ./bpf/...

# Checks the committed eBPF output matches the C sources (needs clang; without
# it the check says so and passes).
bpf-check:
	bpf/gencheck.sh

clean:
	rm -rf bin
