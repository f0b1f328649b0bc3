#!/usr/bin/env bash
# Admin UI page render times: every page against a store holding 10,000
# users' home states and 100,000 audit events (gateway/ui/bench_test.go).
# Prints ms per page and fails when one is over the 200 ms target.
# Run alone with `make bench-ui`; `make bench` runs it last.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -tags bench -count=1 -run NONE -bench BenchmarkPages -benchtime "${BENCH_UI_TIMES:-20x}" ./gateway/ui/ >"$out" 2>&1 ||
	{ cat "$out"; exit 1; }
awk -v target="${BENCH_UI_TARGET_MS:-200}" '
	/^BenchmarkPages\// {
		name = $1; sub(/^BenchmarkPages\//, "", name); sub(/-[0-9]+$/, "", name)
		for (i = 1; i <= NF; i++) if ($i == "ms/page") ms = $(i-1)
		printf "  %-24s %8.2f ms\n", name, ms
		n++; if (ms + 0 > max) max = ms + 0
		if (ms + 0 >= target) { slow = slow " " name }
	}
	END {
		if (n == 0) { print "bench-ui: no page benchmarks ran" > "/dev/stderr"; exit 1 }
		printf "  slowest page: %.2f ms (target < %d ms)\n", max, target
		if (slow != "") { print "bench-ui: over the target:" slow > "/dev/stderr"; exit 1 }
	}' "$out"
