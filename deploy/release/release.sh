#!/usr/bin/env bash
# Builds livygate's release: a static binary per platform with the version
# built in, SHA-256 checksums, and each binary's module list. `make release`
# runs it; OUT (default dist/) receives:
#   livygate-<version>-linux-amd64, livygate-<version>-linux-arm64
#   livygate-<version>-<platform>.modules   (go version -m: Go, modules, build settings)
#   SHA256SUMS                              (sha256sum -c SHA256SUMS verifies)
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
OUT=${OUT:-dist}
PLATFORMS=${PLATFORMS:-"linux/amd64 linux/arm64"}
GO=${GO:-go}

case $VERSION in
*[!A-Za-z0-9._+-]*) echo "release: VERSION '$VERSION' may hold only letters, digits and . _ + -" >&2; exit 2 ;;
esac

mkdir -p "$OUT"
rm -f "$OUT"/livygate-* "$OUT"/SHA256SUMS
names=()
for platform in $PLATFORMS; do
	os=${platform%/*} arch=${platform#*/}
	name="livygate-$VERSION-$os-$arch"
	# CGO off: one static file that runs on any glibc or musl host (the
	# SQLite driver is pure Go). -trimpath keeps build paths out.
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -trimpath \
		-ldflags "-s -w -X main.version=$VERSION" -o "$OUT/$name" ./cmd/livygate
	"$GO" version -m "$OUT/$name" >"$OUT/$name.modules"
	names+=("$name")
done
(cd "$OUT" && sha256sum "${names[@]}" >SHA256SUMS)
echo "release $VERSION in $OUT/:"
(cd "$OUT" && du -h "${names[@]}" | sed "s/^/  /")
