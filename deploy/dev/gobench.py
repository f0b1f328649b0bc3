"""Medians from `go test -bench -count N` output, for `make bench`'s parts
(deploy/dev/bench.sh)."""

import re
import statistics
import sys


def medians(path, prefix=""):
    """A function (name, unit="ns/op") → the median of Benchmark<prefix><name>'s
    values in that unit over its runs in the file at path; it exits the
    bench with the output when the benchmark did not run."""
    text = open(path).read()

    def med(name, unit="ns/op"):
        full = "Benchmark" + prefix + name
        v = [float(x) for x in re.findall(r"^" + re.escape(full) + r"-\d+\s+\d+.*?\s([\d.]+) " + re.escape(unit), text, re.M)]
        if not v:
            sys.exit(f"bench: {full} ({unit}) did not run:\n" + text)
        return statistics.median(v)
    return med
