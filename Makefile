# livygate — see README.md. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
GO    ?= go
BIN   := bin
CACHE := .cache
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build release emr-bundle dev dev-down lint test test-unit test-integration test-harness test-e2e test-e2e-yarn test-e2e-ha test-browser screenshots fuzz bench bench-ui deps deps-bench deps-browser vet clean
DEV_PY := $(CACHE)/dev/py/bin/python

all: build

# CGO off, as `make release` builds it: one static file, so what the tests and
# `make bench` run is what ships (and libc's pages are not in its memory).
build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/livygate ./cmd/livygate

# The gateway in front of a real local stack (OpenLDAP, HDFS, Livy + Spark,
# JupyterHub), until Ctrl-C. See README.md.
dev:
	@bash deploy/dev/stack.sh up

# Static binaries for linux/amd64 and linux/arm64 with the version built in,
# SHA-256 checksums and each binary's module list, in dist/ (OUT=…).
release:
	@bash deploy/release/release.sh

# The EMR bootstrap action and the files it installs, in dist/emr/ (OUT=…),
# to upload to S3 as is: see deploy/emr/README.md.
emr-bundle:
	@bash deploy/emr/bundle.sh

dev-down:
	@bash deploy/dev/stack.sh down

# System packages the tests need, installed only when missing.
deps:
	@bash deploy/dev/ldap/slapd.sh install
	@bash deploy/dev/postgres/postgres.sh install >/dev/null

# Debian's headless Chromium for the admin UI's browser test.
deps-browser:
	@bash deploy/dev/browser/chromium.sh install >/dev/null

deps-bench: deps
	@command -v wrk >/dev/null || { apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }; }
	@command -v nginx >/dev/null || { apt-get install -y -q nginx >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q nginx >/dev/null; }; }

vet:
	@test -z "$$(gofmt -l cmd gateway livy hdfs jupyterhub)" || { echo "gofmt needed:"; gofmt -l cmd gateway livy hdfs jupyterhub; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	$(GO) vet -tags "integration bench" ./...
	$(GO) vet -tags bench ./...
	$(GO) vet -tags browser ./...

# Linters: staticcheck (pinned, built into the cache) over every build tag,
# and shellcheck (Debian) over every shell script. Both must be clean.
STATICCHECK := $(CACHE)/tools/staticcheck
STATICCHECK_VERSION := v0.8.2
$(STATICCHECK):
	GOBIN=$(abspath $(CACHE)/tools) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: $(STATICCHECK)
	$(STATICCHECK) -tags "integration bench browser" ./...
	@command -v shellcheck >/dev/null || { . deploy/dev/common.sh && apt_install shellcheck; }
	shellcheck -x $$(git ls-files '*.sh') .ci/run

# Everything: unit tests (race detector on), integration tests against real
# OpenLDAP, HDFS and JupyterHub, then end to end through the whole stack with
# the real Sparkmagic.
test: deps deps-browser vet lint test-unit test-integration test-harness test-e2e

test-unit:
	$(GO) test -race -count=1 ./...

test-integration:
	$(GO) test -tags integration -count=1 ./...

# The test tooling itself: the Sparkmagic kernel driver against a fake Livy,
# and the dev JupyterHub's API (its own instance). Not end to end.
test-harness:
	@bash deploy/dev/jupyterhub/hub.sh install >/dev/null
	$(DEV_PY) -m pytest -q deploy/dev/harness

# Starts the stack, runs the end-to-end suite and the two browser tests
# (headless Chromium): the admin UI, and a real notebook (alice logs in to
# JupyterHub with her LDAP password and runs a PySpark cell through livygate);
# stops the stack (also on failure). Then restarts it with Spark on YARN
# (DEV_SPARK_MASTER=yarn) for the tests marked yarn only (E2E_YARN): one
# pyspark session and one batch whose YARN user must be alice.
BROWSER_TEST := $(GO) test -tags browser -count=1 -timeout 6m -run TestBrowserAdminUI ./gateway/ui/
NOTEBOOK_TEST := $(GO) test -tags browser -count=1 -timeout 12m -run TestBrowserNotebook ./jupyterhub/
E2E_YARN := ( t0=$$SECONDS; \
	if DEV_SPARK_MASTER=yarn bash deploy/dev/stack.sh start; then \
		$(DEV_PY) -m pytest -q -rA -m yarn deploy/dev/e2e; rc=$$?; \
	else rc=1; fi; \
	bash deploy/dev/stack.sh down >/dev/null 2>&1; \
	echo "e2e on YARN: $$((SECONDS - t0)) s (stack started on YARN, tested, stopped)"; exit $$rc )

# Last, the HA phase: the stack restarted with DEV_HA=1 (two gateways on one
# PostgreSQL, a second Livy; the Hub API-only) for the tests marked ha.
E2E_HA := ( t0=$$SECONDS; \
	if DEV_HA=1 DEV_HUB_NOTEBOOKS=0 bash deploy/dev/stack.sh start; then \
		DEV_HA=1 $(DEV_PY) -m pytest -q -rA -m ha deploy/dev/e2e; rc=$$?; \
	else rc=1; fi; \
	DEV_HA=1 bash deploy/dev/stack.sh down >/dev/null 2>&1; \
	echo "e2e HA: $$((SECONDS - t0)) s (HA stack started, tested, stopped)"; exit $$rc )

test-e2e:
	@bash deploy/dev/stack.sh start
	@set +e; $(DEV_PY) -m pytest -q deploy/dev/e2e; rc=$$?; \
		$(BROWSER_TEST); rc2=$$?; \
		$(NOTEBOOK_TEST); rc3=$$?; \
		bash deploy/dev/stack.sh down >/dev/null 2>&1; \
		$(E2E_YARN); rc4=$$?; \
		$(E2E_HA); rc5=$$?; \
		for r in $$rc $$rc2 $$rc3 $$rc4 $$rc5; do [ $$r -ne 0 ] && exit $$r; done; exit 0

# Only the end-to-end tests marked ha, against the HA stack.
test-e2e-ha:
	@set +e; $(E2E_HA)

# Only the end-to-end tests marked yarn, against the stack on YARN.
test-e2e-yarn:
	@set +e; $(E2E_YARN)

# Both browser tests against their own stack. `make screenshots` does the
# same and refreshes docs/screenshots/*.png.
test-browser: deps-browser
	@bash deploy/dev/stack.sh start
	@set +e; $(BROWSER_TEST) -v; rc=$$?; $(NOTEBOOK_TEST) -v; rc2=$$?; \
		bash deploy/dev/stack.sh down >/dev/null 2>&1; [ $$rc -ne 0 ] && exit $$rc; exit $$rc2

screenshots:
	@UI_SCREENSHOTS=docs/screenshots $(MAKE) --no-print-directory test-browser

# A short fuzzing pass over every fuzz target (seed corpora run in test-unit).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./livy -run=NONE -fuzz=FuzzParsePath -fuzztime=$(FUZZTIME)
	$(GO) test ./livy -run=NONE -fuzz=FuzzEscapePath -fuzztime=$(FUZZTIME)
	$(GO) test ./gateway/proxy -run=NONE -fuzz=FuzzItemNames -fuzztime=$(FUZZTIME)
	$(GO) test ./gateway/proxy -run=NONE -fuzz=FuzzRewriteCreate -fuzztime=$(FUZZTIME)
	$(GO) test ./gateway/policy -run=NONE -fuzz=FuzzRedactJSON -fuzztime=$(FUZZTIME)
	$(GO) test ./gateway/policy -run=NONE -fuzz=FuzzSparkOptions -fuzztime=$(FUZZTIME)

# Benchmarks: gateway vs a bare reverse proxy under load from a second
# process (wrk), cached vs cold LDAP login, token mints and the JWKS, the
# 10,000-user sync, admin UI pages, session governance (limits on the create
# path, a reaper pass). Prints ratios. BENCH_PARTS picks parts.
bench: deps-bench build
	CGO_ENABLED=0 $(GO) build -o $(BIN)/benchtarget ./cmd/benchtarget
	bash deploy/dev/bench.sh

# Admin UI page render times only (also the last step of `make bench`).
bench-ui:
	bash deploy/dev/bench-ui.sh

clean:
	rm -rf $(BIN)
