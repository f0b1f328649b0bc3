#!/usr/bin/env bash
# Debian's PostgreSQL binaries for livygate's store tests (gateway/store/pgtest
# starts a private server from them on a loopback port; nothing here starts
# one).
#
#   postgres.sh install   install postgresql if initdb is missing, without a
#                         system cluster
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by log() in common.sh
DEV_COMPONENT=postgres
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$HERE/../common.sh"

have_binaries() {
	command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

cmd_install() {
	if have_binaries; then
		log "PostgreSQL already installed"
		return 0
	fi
	# The package would otherwise create and start a system cluster that
	# the tests never use; only its binaries are wanted.
	local sudo=()
	[ "$(id -u)" = 0 ] || sudo=(sudo)
	if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
		"${sudo[@]}" mkdir -p /etc/postgresql-common
		echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
	fi
	apt_install postgresql
	have_binaries || die "initdb still missing after apt-get install postgresql"
}

case "${1:-}" in
install) cmd_install ;;
*) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
