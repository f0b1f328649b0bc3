#!/usr/bin/env bash
# Debian's PostgreSQL binaries for livygate's store tests (gateway/store/pgtest
# starts a private server from them on a loopback port), and the HA dev
# stack's shared store (DEV_HA=1, deploy/dev/stack.sh).
#
#   postgres.sh install   install postgresql if initdb is missing, without a
#                         system cluster
#   postgres.sh start     install if needed, create the cluster once (data in
#                         $DEV_CACHE/postgres/data, a generated password),
#                         start it on 127.0.0.1:$DEV_PG_PORT [5439] only and
#                         write the DSN file ($DEV_CACHE/postgres/dsn, 0600)
#   postgres.sh stop      a fast shutdown (sessions cut, nothing lost)
#   postgres.sh env       print DEV_PG_DSN_FILE, DEV_PG_PORT and DEV_PG_BIN
#
# Under root the server runs as the system postgres user (PostgreSQL refuses
# root). pg_stat_statements is preloaded (the bench counts statements).
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

DEV_PG_PORT="${DEV_PG_PORT:-5439}"
PG_DIR="$DEV_CACHE/postgres"
PG_DATA="$PG_DIR/data"
PG_LOG="$(log_file postgres)"
DSN_FILE="$PG_DIR/dsn"
PG_USER=livygate

bin_dir() {
	if command -v initdb >/dev/null 2>&1; then
		dirname "$(readlink -f "$(command -v initdb)")"
		return
	fi
	# The newest installed major version.
	local d
	d="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)"
	[ -n "$d" ] || die "no PostgreSQL binaries (run: $0 install)"
	echo "$d"
}

# as_pg CMD...: run CMD (exec, no fork) as the server's user: postgres
# under root, which PostgreSQL refuses.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		exec_as=(setpriv --reuid=postgres --regid=postgres --init-groups --)
	else
		exec_as=()
	fi
	"${exec_as[@]}" "$@"
}

init_cluster() {
	[ -f "$PG_DATA/PG_VERSION" ] && return 0
	local bin="$1" pw
	log "creating the cluster in $PG_DATA"
	mkdir -p "$PG_DIR"
	pw="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
	rm -rf "$PG_DATA"
	mkdir -p "$PG_DATA"
	(umask 077 && printf '%s\n' "$pw" >"$PG_DIR/pwfile")
	if [ "$(id -u)" = 0 ]; then chown postgres: "$PG_DATA" "$PG_DIR/pwfile"; fi
	chmod 700 "$PG_DATA"
	as_pg "$bin/initdb" -D "$PG_DATA" -U "$PG_USER" --pwfile "$PG_DIR/pwfile" \
		--auth-host=scram-sha-256 --auth-local=reject -E UTF8 --no-locale --no-sync >>"$PG_LOG" 2>&1 ||
		{ tail_log "$PG_LOG"; die "initdb failed"; }
	rm -f "$PG_DIR/pwfile"
	(umask 077 && printf '%s' "$pw" >"$PG_DIR/password")
}

cmd_start() {
	cmd_install >/dev/null
	if pid_alive postgres; then
		log "already running (pid $(read_pid postgres)) on 127.0.0.1:$DEV_PG_PORT"
		write_dsn
		return 0
	fi
	require_port_free postgres "$DEV_PG_PORT"
	local bin root=()
	bin="$(bin_dir)"
	init_cluster "$bin"
	rotate_log "$PG_LOG"
	touch "$PG_LOG"
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$PG_LOG"
		root=(setpriv --reuid=postgres --regid=postgres --init-groups --)
	fi
	log "PostgreSQL on 127.0.0.1:$DEV_PG_PORT (data $PG_DATA; log $PG_LOG)"
	# fsync off: a dev stack's data, rebuilt at will (the bench's own server,
	# pgtest.Durable, measures with PostgreSQL's defaults).
	start_bg postgres "$PG_LOG" env -i PATH="$PATH" LC_ALL=C "${root[@]}" "$bin/postgres" -D "$PG_DATA" \
		-p "$DEV_PG_PORT" -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=60 \
		-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
		-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all
	wait_for_port postgres "$DEV_PG_PORT" 30 "$PG_LOG" postgres || die "PostgreSQL did not start; see $PG_LOG"
	write_dsn
}

# write_dsn writes the DSN (with the password) for the gateways' store.url.
write_dsn() {
	local pw
	pw="$(cat "$PG_DIR/password")"
	(umask 077 && printf 'postgres://%s:%s@127.0.0.1:%s/postgres?sslmode=disable&connect_timeout=5' \
		"$PG_USER" "$pw" "$DEV_PG_PORT" >"$DSN_FILE")
}

# cmd_stop: a fast shutdown (SIGINT), then what stop_bg does.
cmd_stop() {
	local p
	if p="$(read_pid postgres)" && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
		log "postgres: fast shutdown of pid $p"
		kill -INT "$p" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
		if ! kill -0 "$p" 2>/dev/null; then
			rm -f "$(pid_file postgres)"
			log "postgres: stopped"
			return 0
		fi
	fi
	stop_bg postgres 20
}

cmd_env() {
	echo "DEV_PG_DSN_FILE=$DSN_FILE"
	echo "DEV_PG_PORT=$DEV_PG_PORT"
	echo "DEV_PG_BIN=$(bin_dir)"
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
env) cmd_env ;;
*) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
