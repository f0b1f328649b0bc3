#!/usr/bin/env bash
# Debian's Prometheus for the metrics end-to-end test (deploy/dev/e2e):
#   prometheus.sh install   install the package when the binary is missing
#   prometheus.sh bin       print the binary's path
# The test writes its own scrape config and runs the binary itself, on a
# free loopback port with its data in a temporary folder; nothing here
# starts a service.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by log() in common.sh
DEV_COMPONENT=prometheus
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$HERE/../common.sh"

prometheus_bin() { command -v prometheus || echo /usr/bin/prometheus; }

case "${1:-}" in
install)
  [ -x "$(prometheus_bin)" ] || apt_install prometheus
  [ -x "$(prometheus_bin)" ] || die "prometheus is not installed after apt-get"
  ;;
bin) prometheus_bin ;;
*) die "usage: prometheus.sh install|bin" ;;
esac
