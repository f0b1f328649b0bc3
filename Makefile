# livygate — see README.md. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
GO    ?= go
BIN   := bin
CACHE := .cache
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build test test-unit test-integration fuzz bench deps deps-bench vet clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/livygate ./cmd/livygate

# System packages the tests need, installed only when missing.
deps:
	@bash deploy/dev/ldap/slapd.sh install

deps-bench: deps
	@command -v wrk >/dev/null || { apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }; }

vet:
	@test -z "$$(gofmt -l cmd gateway livy hdfs jupyterhub)" || { echo "gofmt needed:"; gofmt -l cmd gateway livy hdfs jupyterhub; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags integration ./...

# Everything: unit tests (race detector on), then integration tests against
# the real neighbours (OpenLDAP today).
test: deps vet test-unit test-integration

test-unit:
	$(GO) test -race -count=1 ./...

test-integration:
	$(GO) test -tags integration -count=1 ./...

# A short fuzzing pass over every fuzz target (seed corpora run in test-unit).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./livy -run=NONE -fuzz=FuzzParsePath -fuzztime=$(FUZZTIME)
	$(GO) test ./gateway/proxy -run=NONE -fuzz=FuzzRewriteCreate -fuzztime=$(FUZZTIME)
	$(GO) test ./gateway/policy -run=NONE -fuzz=FuzzRedactJSON -fuzztime=$(FUZZTIME)

# Benchmarks: gateway vs a bare reverse proxy under load from a second
# process (wrk), and the cost of a cached vs a cold LDAP login. Prints ratios.
bench: deps-bench
	$(GO) build -o $(BIN)/livygate ./cmd/livygate
	$(GO) build -o $(BIN)/benchtarget ./cmd/benchtarget
	bash deploy/dev/bench.sh

clean:
	rm -rf $(BIN)
