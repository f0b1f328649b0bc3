#!/usr/bin/env bash
# The demo directory for `make dev` and `make bench`: users.ldif.tmpl with
# fresh random passwords, in a private slapd on 127.0.0.1.
#
#   demo.sh start DIR PORT   generate DIR/passwords.env (0600), start slapd
#   demo.sh stop DIR
#
# DIR/passwords.env holds shell assignments ALICE_PASSWORD=…, BOB_PASSWORD=…,
# CAROL_PASSWORD=…, DAVE_PASSWORD=…, SERVICE_PASSWORD=… for tools to source.
# Passwords are generated once per DIR and reused on later starts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PATH="$PATH:/usr/sbin:/sbin"

die() { echo "demo.sh: $*" >&2; exit 1; }

start() {
	local dir=$1 port=$2
	mkdir -p "$dir"
	chmod 700 "$dir"
	local pw="$dir/passwords.env"
	if [ ! -s "$pw" ]; then
		(
			umask 077
			for name in ALICE BOB CAROL DAVE TWIN SERVICE ROOT; do
				printf '%s_PASSWORD=%s\n' "$name" "$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
			done >"$pw"
		)
	fi
	# shellcheck disable=SC1090
	source "$pw"
	local ldif="$dir/users.ldif" args=() name
	for name in ALICE BOB CAROL DAVE TWIN SERVICE; do
		local var="${name}_PASSWORD"
		# Store salted hashes, never the clear passwords, in the directory.
		local hash
		hash=$(printf '%s' "${!var}" | slappasswd -h '{SSHA}' -T /dev/stdin)
		args+=(-e "s|@${name}_PASSWORD@|${hash}|")
	done
	(umask 077 && sed "${args[@]}" "$here/users.ldif.tmpl" >"$ldif")
	SLAPD_ROOTPW="$ROOT_PASSWORD" bash "$here/slapd.sh" start "$dir/slapd" "$port" "$ldif"
}

case "${1:-}" in
start) [ $# -eq 3 ] || die "usage: demo.sh start DIR PORT"; start "$2" "$3" ;;
stop) [ $# -eq 2 ] || die "usage: demo.sh stop DIR"; bash "$here/slapd.sh" stop "$2/slapd" ;;
*) die "usage: demo.sh start DIR PORT | demo.sh stop DIR" ;;
esac
