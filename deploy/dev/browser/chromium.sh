#!/usr/bin/env bash
# Debian's headless Chromium for the admin UI's browser test.
#
#   chromium.sh install   install chromium if missing (idempotent)
#   chromium.sh path      print the browser's path
#
# The test drives it with chromedp; no tool ever downloads its own browser.
set -euo pipefail

die() { echo "chromium.sh: $*" >&2; exit 1; }
find_browser() { command -v chromium || command -v chromium-browser || true; }

cmd_install() {
	if [ -n "$(find_browser)" ]; then
		echo "chromium.sh: $(find_browser) already installed"
		return 0
	fi
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || die "installing chromium needs root (or sudo)"
		sudo=(sudo)
	fi
	local install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core)
	if ! "${install[@]}"; then
		echo "chromium.sh: install failed; refreshing the package lists and retrying" >&2
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
		"${install[@]}"
	fi
	[ -n "$(find_browser)" ] || die "chromium still missing after apt-get install"
}

case "${1:-}" in
install) cmd_install ;;
path)
	p="$(find_browser)"
	[ -n "$p" ] || die "chromium is not installed; run: bash deploy/dev/browser/chromium.sh install"
	echo "$p"
	;;
*) die "usage: chromium.sh install|path" ;;
esac
