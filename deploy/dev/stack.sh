#!/usr/bin/env bash
# The whole local stack, on 127.0.0.1 only: OpenLDAP (demo users), HDFS,
# Livy + Spark, JupyterHub, and livygate in front of Livy.
#
#   stack.sh up      install what is missing, start everything, print the
#                    endpoints, demo credentials and a Sparkmagic config, and
#                    keep running until Ctrl-C, then stop everything (make dev)
#   stack.sh start   the same, but return once everything is ready (tests)
#   stack.sh down    stop everything a previous start left running (make dev-down)
#   stack.sh env     print the stack's env file
#   stack.sh livy2 start|stop   (DEV_HA=1) the second Livy alone
#
# Ports (environment, defaults in brackets): DEV_LDAP_PORT [3890],
# HDFS_PORT [9820], HDFS_HTTP_PORT [9870], LIVY_PORT [8998],
# DEV_HUB_PORT [8081] (the Hub and its REST API), DEV_HUB_PUBLIC_PORT [8000]
# (configurable-http-proxy: where a person logs in to JupyterHub),
# DEV_HUB_PROXY_API_PORT [8001], DEV_GATEWAY_PORT [8999]. DEV_HUB_NOTEBOOKS=0
# runs the Hub API-only (no proxy, no single-user servers, no login).
# On YARN also the YARN_*_PORT of deploy/dev/yarn/yarn.sh (Hadoop's
# defaults: 8030-8033, 8040-8042, 8088).
#
# DEV_SPARK_MASTER [local[1]]: where Livy runs Spark. "yarn" also starts a
# YARN ResourceManager + NodeManager on the same HDFS (deploy/dev/yarn/yarn.sh)
# and sets livy.spark.master = yarn: slower and bigger, see README.md.
#
# DEV_HA=1: the HA mode (docs/ha.md). Also starts PostgreSQL on
# DEV_PG_PORT [5439] (deploy/dev/postgres/postgres.sh), a second Livy
# ("livy2", local[1], small driver) on LIVY2_PORT [8996] with RSC ports
# LIVY2_RSC_PORT_RANGE [10020~10030], and a second gateway on
# DEV_GATEWAY2_PORT [8997]; both gateways use store.driver postgres and a
# sync timer (DEV_HA_SYNC_INTERVAL [10s]), each with its own lock file, so
# only the store's lease keeps the sync to one replica. DEV_HA_BACKENDS
# [auto]: 1 lists both Livys in livy.backends, 0 puts both gateways on the
# first Livy (livy.url), auto uses livy.backends when this livygate accepts
# it (check-config). Local mode only.
#
# Every component logs to $DEV_CACHE/logs/<component>.log; a failure names
# the log and prints its tail. The endpoints and demo credentials are written
# to $DEV_CACHE/stack.env (mode 0600, shell syntax), documented in README.md.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by log() in common.sh
DEV_COMPONENT=stack
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HERE/common.sh"
ROOT="$(cd "$HERE/../.." && pwd)"

DEV_LDAP_PORT="${DEV_LDAP_PORT:-3890}"
DEV_GATEWAY_PORT="${DEV_GATEWAY_PORT:-8999}"
export HDFS_PORT="${HDFS_PORT:-9820}" HDFS_HTTP_PORT="${HDFS_HTTP_PORT:-9870}"
export LIVY_PORT="${LIVY_PORT:-8998}" DEV_HUB_PORT="${DEV_HUB_PORT:-8081}"
export DEV_HUB_PUBLIC_PORT="${DEV_HUB_PUBLIC_PORT:-8000}" DEV_HUB_PROXY_API_PORT="${DEV_HUB_PROXY_API_PORT:-8001}"
DEV_HUB_NOTEBOOKS="${DEV_HUB_NOTEBOOKS:-1}"
DEV_SPARK_MASTER="${DEV_SPARK_MASTER:-local[1]}"
case "$DEV_SPARK_MASTER" in
local*) ON_YARN="" ;;
yarn) ON_YARN=1 ;;
*) die "DEV_SPARK_MASTER=$DEV_SPARK_MASTER: use local[N] or yarn" ;;
esac
# Livy counts a client-mode session's spark-submit as "being created" for its
# whole life (and a while after a delete): 4 lets alice hold three sessions
# (the governance e2e test) with room for one still stopping.
export LIVY_MAX_CREATION="${LIVY_MAX_CREATION:-4}"
DEV_HA="${DEV_HA:-}"
[ "$DEV_HA" = 0 ] && DEV_HA=""
if [ -n "$DEV_HA" ]; then
	[ -z "$ON_YARN" ] || die "DEV_HA=1 runs Spark in local mode only"
	export DEV_PG_PORT="${DEV_PG_PORT:-5439}"
	DEV_GATEWAY2_PORT="${DEV_GATEWAY2_PORT:-8997}"
	LIVY2_PORT="${LIVY2_PORT:-8996}"
	LIVY2_RSC_PORT_RANGE="${LIVY2_RSC_PORT_RANGE:-10020~10030}"
	DEV_HA_SYNC_INTERVAL="${DEV_HA_SYNC_INTERVAL:-10s}"
	DEV_HA_BACKENDS="${DEV_HA_BACKENDS:-auto}"
fi

LDAP_DIR="$DEV_CACHE/ldap"
GW_DIR="$DEV_CACHE/livygate"
STACK_ENV="$DEV_CACHE/stack.env"
GW_LOG="$(log_file livygate)"
GW2_LOG="$(log_file livygate2)"
DEMO_USERS="alice bob carol"

start_all() {
	local t0=$SECONDS
	stop_all >/dev/null 2>&1 || true

	log "building livygate"
	make -s -C "$ROOT" build >/dev/null

	log "OpenLDAP on 127.0.0.1:$DEV_LDAP_PORT"
	bash "$HERE/ldap/slapd.sh" install >/dev/null
	bash "$HERE/ldap/demo.sh" start "$LDAP_DIR" "$DEV_LDAP_PORT" >"$(log_file ldap)" 2>&1 ||
		{ tail_log "$(log_file ldap)"; die "OpenLDAP did not start; see $(log_file ldap)"; }
	# shellcheck disable=SC1091
	. "$LDAP_DIR/passwords.env"
	(umask 077 && printf '%s' "$SERVICE_PASSWORD" >"$LDAP_DIR/service.pw")

	log "HDFS on 127.0.0.1:$HDFS_PORT"
	bash "$HERE/hdfs/hdfs.sh" start
	if [ -n "$ON_YARN" ]; then
		log "YARN (ResourceManager + NodeManager) on the same HDFS"
		bash "$HERE/yarn/yarn.sh" start
		# shellcheck disable=SC1091
		YARN_RM_URL="$(. "$DEV_CACHE/yarn/yarn.env" && echo "$YARN_RM_URL")"
	fi
	log "Livy on 127.0.0.1:$LIVY_PORT (Spark master $DEV_SPARK_MASTER)"
	if [ -n "$ON_YARN" ]; then
		LIVY_SPARK_MASTER=yarn LIVY_HADOOP_CONF_DIR="$DEV_CACHE/yarn/conf" bash "$HERE/livy/livy.sh" start
	else
		LIVY_SPARK_MASTER="$DEV_SPARK_MASTER" bash "$HERE/livy/livy.sh" start
	fi
	if [ -n "$DEV_HA" ]; then
		log "HA: a second Livy on 127.0.0.1:$LIVY2_PORT, PostgreSQL on 127.0.0.1:$DEV_PG_PORT"
		livy2 start
		bash "$HERE/postgres/postgres.sh" start
	fi
	log "JupyterHub on 127.0.0.1:$DEV_HUB_PORT (log in at 127.0.0.1:$DEV_HUB_PUBLIC_PORT)"
	# Users log in with their LDAP password; their notebooks' Sparkmagic
	# kernels reach the gateway with their own Hub token.
	DEV_HUB_USERS="${DEMO_USERS// /,}" DEV_HUB_ADMINS=carol \
		DEV_HUB_LDAP_URL="ldap://127.0.0.1:$DEV_LDAP_PORT" DEV_HUB_NOTEBOOKS="$DEV_HUB_NOTEBOOKS" \
		DEV_HUB_GATEWAY_URL="http://127.0.0.1:$DEV_GATEWAY_PORT" bash "$HERE/jupyterhub/hub.sh" start
	local hub_token_file
	hub_token_file="$(bash "$HERE/jupyterhub/hub.sh" env | sed -n 's/^DEV_HUB_SERVICE_TOKEN_FILE=//p')"

	write_gateway_config "$hub_token_file"
	log "creating the demo users' HDFS homes"
	provision_homes
	log "livygate on 127.0.0.1:$DEV_GATEWAY_PORT"
	start_gateway livygate "$GW_LOG" "$GW_DIR/livygate.yaml" "$DEV_GATEWAY_PORT"
	if [ -n "$DEV_HA" ]; then
		log "HA: a second livygate on 127.0.0.1:$DEV_GATEWAY2_PORT (same PostgreSQL${HA_BACKENDS:+, livy.backends: both Livys})"
		start_gateway livygate2 "$GW2_LOG" "$GW_DIR/livygate2.yaml" "$DEV_GATEWAY2_PORT"
	fi

	write_stack_env "$hub_token_file"
	write_sparkmagic_config
	log "stack ready in $((SECONDS - t0)) s"
}

# start_gateway NAME LOG CONFIG PORT: livygate serve, waited for.
start_gateway() {
	rotate_log "$2"
	# A clean environment: livygate refuses unknown LIVYGATE_* variables.
	start_bg "$1" "$2" env -i PATH="$PATH" HOME="${HOME:-/root}" \
		"$ROOT/bin/livygate" serve --config "$3"
	wait_for_url "$1" "http://127.0.0.1:$4/readyz" 60 "$2" "$1" || die "$1 did not become ready; see $2"
}

# livy2 start|stop: the HA stack's second Livy (deploy/dev/livy/livy.sh,
# instance 2): local[1], a small driver.
livy2() {
	LIVY_INSTANCE=2 LIVY_PORT="$LIVY2_PORT" LIVY_RSC_PORT_RANGE="$LIVY2_RSC_PORT_RANGE" \
		LIVY_SPARK_MASTER='local[1]' LIVY_DRIVER_MEMORY="${LIVY2_DRIVER_MEMORY:-384m}" LIVY_HEAP="${LIVY2_HEAP:-384m}" \
		bash "$HERE/livy/livy.sh" "$1"
}

# make_token_keys writes one signing key per algorithm, once: RS256 signs,
# the others are published verify-only keys (the e2e suite signs with each).
make_token_keys() {
	mkdir -p "$GW_DIR/keys"
	chmod 700 "$GW_DIR/keys"
	local alg
	for alg in RS256 RS512 ES256 EdDSA; do
		[ -f "$GW_DIR/keys/$alg.pem" ] || "$ROOT/bin/livygate" keys generate --algorithm "$alg" --out "$GW_DIR/keys/$alg.pem" >/dev/null
	done
}

# make_demo_secrets writes the secrets Spark conf may reference, once.
make_demo_secrets() {
	mkdir -p "$GW_DIR/secrets"
	chmod 700 "$GW_DIR/secrets"
	[ -f "$GW_DIR/secrets/demo-db-password" ] ||
		(umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$GW_DIR/secrets/demo-db-password")
}

# livy_section: the livy: section. In the HA stack with HA_BACKENDS set,
# both Livys as livy.backends.
livy_section() {
	if [ -n "${HA_BACKENDS:-}" ]; then
		cat <<YAML
livy:
  backends:
    - {name: livy1, url: "http://127.0.0.1:${LIVY_PORT}"}
    - {name: livy2, url: "http://127.0.0.1:${LIVY2_PORT}"}
YAML
	else
		cat <<YAML
livy:
  url: http://127.0.0.1:${LIVY_PORT}
YAML
	fi
}

# sync_store_sections LOCK_FILE: the sync: and store: sections; PostgreSQL
# and a sync timer in the HA stack.
sync_store_sections() {
	if [ -n "$DEV_HA" ]; then
		cat <<YAML
sync:
  lock_file: $1
  interval: ${DEV_HA_SYNC_INTERVAL}
store:
  driver: postgres
  url:
    file: ${DEV_CACHE}/postgres/dsn
YAML
	else
		cat <<YAML
sync:
  lock_file: ${GW_DIR}/sync.lock
store:
  path: ${GW_DIR}/livygate.db
YAML
	fi
}

write_gateway_config() {
	mkdir -p "$GW_DIR"
	make_token_keys
	make_demo_secrets
	HA_BACKENDS=""
	if [ -n "$DEV_HA" ]; then
		ha_backends_choice "$1"
	fi
	gateway_config "$1" "$DEV_GATEWAY_PORT" "$GW_DIR/sync.lock" >"$GW_DIR/livygate.yaml"
	if [ -n "$DEV_HA" ]; then
		gateway_config "$1" "$DEV_GATEWAY2_PORT" "$GW_DIR/sync2.lock" >"$GW_DIR/livygate2.yaml"
	fi
}

# ha_backends_choice HUB_TOKEN_FILE: sets HA_BACKENDS when the HA stack
# lists both Livys (DEV_HA_BACKENDS 1, or auto and this livygate accepts
# livy.backends).
ha_backends_choice() {
	case "$DEV_HA_BACKENDS" in
	1) HA_BACKENDS=1 ;;
	0) ;;
	auto)
		HA_BACKENDS=1
		gateway_config "$1" "$DEV_GATEWAY_PORT" "$GW_DIR/sync.lock" >"$GW_DIR/livygate-probe.yaml"
		# Only an unknown key means the feature is absent; any other
		# refusal is a bug of the feature, and the gateways then fail to start.
		if ! env -i PATH="$PATH" HOME="${HOME:-/root}" "$ROOT/bin/livygate" check-config --config "$GW_DIR/livygate-probe.yaml" >"$GW_DIR/livygate-probe.out" 2>&1 &&
			grep -q 'field backends not found' "$GW_DIR/livygate-probe.out"; then
			HA_BACKENDS=""
			log "HA: this livygate does not know livy.backends yet; both gateways use the first Livy"
		fi
		rm -f "$GW_DIR/livygate-probe.yaml" "$GW_DIR/livygate-probe.out"
		;;
	*) die "DEV_HA_BACKENDS=$DEV_HA_BACKENDS: use 1, 0 or auto" ;;
	esac
}

# gateway_config HUB_TOKEN_FILE PORT LOCK_FILE: one gateway's livygate.yaml.
gateway_config() {
	cat <<YAML
# Generated by deploy/dev/stack.sh for the local dev stack.
listen:
  address: 127.0.0.1:${2}
$(livy_section)
auth:
  admin_group: livygate-admins
  ldap:
    url: ldap://127.0.0.1:${DEV_LDAP_PORT}
    allow_insecure: true   # loopback only
    bind_dn: cn=livygate,ou=services,dc=livygate,dc=test
    bind_password:
      file: ${LDAP_DIR}/service.pw
    user_base_dn: ou=people,dc=livygate,dc=test
  hub_token:
    enabled: true
jupyterhub:
  url: http://127.0.0.1:${DEV_HUB_PORT}
  token:
    file: $1
hdfs:
  namenodes: [127.0.0.1:${HDFS_PORT}]
  user: ${HDFS_SUPERUSER:-hdfs}
  # No group: homes inherit /user's (supergroup), which no analyst is in, so
  # 0750 keeps each home private. A group every user shares would open them all.
$(sync_store_sections "$3")
tokens:
  enabled: true
  issuer: http://127.0.0.1:${DEV_GATEWAY_PORT}
  audience: [s3-proxy]
  minted_tokens_log_in: true   # the e2e suite logs in with a fetched token
  signing_key:
    file: ${GW_DIR}/keys/RS256.pem
    algorithm: RS256
  verify_keys:
    - {file: ${GW_DIR}/keys/RS512.pem, algorithm: RS512}
    - {file: ${GW_DIR}/keys/ES256.pem, algorithm: ES256}
    - {file: ${GW_DIR}/keys/EdDSA.pem, algorithm: EdDSA}
  user_claims: [preferred_username]
  group_claims:
    - {name: groups, format: array}
    - {name: group_list, format: string}
  # Each session and batch finds the caller's token in their HDFS home, at
  # the path this conf key names.
  delivery:
    mode: hdfs-file
    conf_keys: [spark.livygate.token.path]
secrets:
  provider: dir
  dir: ${GW_DIR}/secrets
  access:
    demo-db-password: {users: [alice]}
# Session governance (README, "Session governance"). alice's fourth live
# session is refused (deploy/dev/e2e/test_governance_e2e.py); carol, an
# admin, is exempt. The e2e test runs a second gateway with a fast reaper.
limits:
  default:
    max_sessions: ${DEV_MAX_SESSIONS:-3}
    max_batches: 5
    max_driver_memory: 2g
    max_executor_memory: 2g
    max_executors: 2
  timeouts:
    ttl: {max: 24h}
    idle_timeout: {default: 2h, max: 8h}
    heartbeat_timeout: {max: 1h}
reaper:
  interval: ${DEV_REAPER_INTERVAL:-1m}
  idle_after: ${DEV_REAPER_IDLE_AFTER:-2h}
  orphan_after: ${DEV_REAPER_ORPHAN_AFTER:-30m}
YAML
}

# provision_homes creates the Hub users' homes with livygate's own sync.
provision_homes() {
	env -i PATH="$PATH" HOME="${HOME:-/root}" "$ROOT/bin/livygate" sync --config "$GW_DIR/livygate.yaml" \
		--report "$GW_DIR/first-sync.json" 2>&1 | tee -a "$(log_file sync)" >&2
}

write_stack_env() {
	(
		umask 077
		{
		cat <<ENV
# The dev stack's endpoints and demo credentials (deploy/dev/stack.sh).
STACK_GATEWAY_URL=http://127.0.0.1:${DEV_GATEWAY_PORT}
STACK_LIVY_URL=http://127.0.0.1:${LIVY_PORT}
STACK_HUB_URL=http://127.0.0.1:${DEV_HUB_PORT}
STACK_HUB_PUBLIC_URL=http://127.0.0.1:${DEV_HUB_PUBLIC_PORT}
STACK_HUB_PROXY_API_URL=http://127.0.0.1:${DEV_HUB_PROXY_API_PORT}
STACK_HUB_NOTEBOOKS=${DEV_HUB_NOTEBOOKS}
STACK_HUB_SERVICE_TOKEN_FILE=$1
STACK_NAMENODE=127.0.0.1:${HDFS_PORT}
STACK_HADOOP_CONF_DIR=${DEV_CACHE}/hdfs/conf
STACK_LDAP_URL=ldap://127.0.0.1:${DEV_LDAP_PORT}
STACK_LDAP_BIND_DN=cn=livygate,ou=services,dc=livygate,dc=test
STACK_LDAP_BIND_PASSWORD_FILE=${LDAP_DIR}/service.pw
STACK_GATEWAY_CONFIG=${GW_DIR}/livygate.yaml
STACK_GATEWAY_KEYS_DIR=${GW_DIR}/keys
STACK_SECRETS_DIR=${GW_DIR}/secrets
STACK_LOG_DIR=${DEV_LOGS}
STACK_SPARK_MASTER="${DEV_SPARK_MASTER}"
${ON_YARN:+STACK_YARN_RM_URL=${YARN_RM_URL}
STACK_YARN_CONF_DIR=${DEV_CACHE}/yarn/conf
}STACK_DEMO_USERS="${DEMO_USERS}"
STACK_DEMO_ADMIN=carol
STACK_ALICE_PASSWORD=${ALICE_PASSWORD}
STACK_BOB_PASSWORD=${BOB_PASSWORD}
STACK_CAROL_PASSWORD=${CAROL_PASSWORD}
ENV
		if [ -n "$DEV_HA" ]; then
			cat <<ENV
# HA (DEV_HA=1): two gateways on one PostgreSQL, two Livys.
STACK_HA=1
STACK_GATEWAY2_URL=http://127.0.0.1:${DEV_GATEWAY2_PORT}
STACK_GATEWAY_URLS="http://127.0.0.1:${DEV_GATEWAY_PORT} http://127.0.0.1:${DEV_GATEWAY2_PORT}"
STACK_GATEWAY2_CONFIG=${GW_DIR}/livygate2.yaml
STACK_GATEWAY_PID_FILE=$(pid_file livygate)
STACK_GATEWAY2_PID_FILE=$(pid_file livygate2)
STACK_LIVY2_URL=http://127.0.0.1:${LIVY2_PORT}
STACK_LIVY_URLS="http://127.0.0.1:${LIVY_PORT} http://127.0.0.1:${LIVY2_PORT}"
STACK_LIVY2_PID_FILE=$(pid_file livy2)
STACK_LIVY_BACKENDS="${HA_BACKENDS:+livy1=http://127.0.0.1:${LIVY_PORT} livy2=http://127.0.0.1:${LIVY2_PORT}}"
STACK_PG_DSN="$(cat "$DEV_CACHE/postgres/dsn")"
STACK_PG_DSN_FILE=${DEV_CACHE}/postgres/dsn
STACK_PG_BIN=$(bash "$HERE/postgres/postgres.sh" env | sed -n 's/^DEV_PG_BIN=//p')
STACK_SYNC_INTERVAL=${DEV_HA_SYNC_INTERVAL}
ENV
		fi
		} >"$STACK_ENV"
	)
}

# write_sparkmagic_config writes one Sparkmagic config.json per demo user
# (Python and Scala kernels, Basic auth with the user's LDAP password).
write_sparkmagic_config() {
	local u pw
	for u in $DEMO_USERS; do
		pw="$(sed -n "s/^STACK_${u^^}_PASSWORD=//p" "$STACK_ENV")"
		mkdir -p "$DEV_CACHE/sparkmagic/$u"
		(
			umask 077
			python3 - "$DEV_GATEWAY_PORT" "$u" "$pw" >"$DEV_CACHE/sparkmagic/$u/config.json" <<'PY'
import json, sys
port, user, password = sys.argv[1:]
creds = {"url": f"http://127.0.0.1:{port}", "auth": "Basic_Access", "username": user, "password": password}
print(json.dumps({
    "kernel_python_credentials": creds,
    "kernel_scala_credentials": creds,
    # Livy's CSRF filter refuses a POST without X-Requested-By; the gateway passes it on.
    "custom_headers": {"X-Requested-By": "sparkmagic"},
    "livy_session_startup_timeout_seconds": 180,
}, indent=2))
PY
		)
	done
}

print_banner() {
	# shellcheck disable=SC1090
	. "$STACK_ENV"
	cat <<EOF

livygate dev stack is up (logs: $DEV_LOGS)
  gateway     $STACK_GATEWAY_URL     (Livy API; point Sparkmagic here)
  admin UI    $STACK_GATEWAY_URL/admin/ui/   (sign in as carol)
  Livy        $STACK_LIVY_URL     (behind the gateway; loopback only)
$(if [ "$STACK_HUB_NOTEBOOKS" = 1 ]; then
		echo "  JupyterHub  $STACK_HUB_PUBLIC_URL/   (log in with a demo user's LDAP password: JupyterLab"
		echo "              with PySpark and Spark kernels that reach the gateway with your Hub token)"
	else
		echo "  JupyterHub  API only (DEV_HUB_NOTEBOOKS=0): no login, no notebooks"
	fi)
  Hub API     $STACK_HUB_URL/hub/api
  HDFS        hdfs://$STACK_NAMENODE   (hadoop fs: deploy/dev/hdfs/fs.sh -ls /user)
  Spark       $STACK_SPARK_MASTER${STACK_YARN_RM_URL:+   (YARN ResourceManager $STACK_YARN_RM_URL; apps: deploy/dev/yarn/yarn.sh apps)}
  LDAP        $STACK_LDAP_URL
$(if [ "${STACK_HA:-}" = 1 ]; then
		echo "  HA          gateway B $STACK_GATEWAY2_URL, Livy 2 $STACK_LIVY2_URL, PostgreSQL store (DSN in $STACK_PG_DSN_FILE)"
		echo "              livy.backends: ${STACK_LIVY_BACKENDS:-off (both gateways front the first Livy)}"
	fi)

Demo users (LDAP passwords, generated at first start; the same logins for
JupyterHub, the gateway and the admin UI):
  alice / $STACK_ALICE_PASSWORD     (analyst)
  bob   / $STACK_BOB_PASSWORD     (analyst)
  carol / $STACK_CAROL_PASSWORD     (admin: group livygate-admins)

Try it:
  curl -u alice:$STACK_ALICE_PASSWORD -H 'X-Requested-By: me' $STACK_GATEWAY_URL/batches

Sparkmagic config.json for each demo user (Python and Scala kernels):
$(for u in $DEMO_USERS; do echo "  $DEV_CACHE/sparkmagic/$u/config.json"; done)
  use one with: SPARKMAGIC_CONF_DIR=$DEV_CACHE/sparkmagic/alice jupyter notebook
alice's:
$(cat "$DEV_CACHE/sparkmagic/alice/config.json")

Endpoints and credentials for tools: $STACK_ENV
Press Ctrl-C to stop everything.
EOF
}

stop_all() {
	stop_bg livygate2 || true
	stop_bg livygate || true
	bash "$HERE/jupyterhub/hub.sh" stop || true
	bash "$HERE/livy/livy.sh" stop || true
	LIVY_INSTANCE=2 bash "$HERE/livy/livy.sh" stop || true
	bash "$HERE/postgres/postgres.sh" stop || true
	bash "$HERE/yarn/yarn.sh" stop || true
	bash "$HERE/hdfs/hdfs.sh" stop || true
	bash "$HERE/ldap/demo.sh" stop "$LDAP_DIR" || true
}

# The `up` process (make dev) records itself so `down` can end it and
# `start` (make test) refuses to tear it down.
UP_PID="$(pid_file stack-up)"
up_alive() { [ -f "$UP_PID" ] && kill -0 "$(cat "$UP_PID")" 2>/dev/null; }

refuse_if_up() {
	if up_alive; then
		die "a 'make dev' stack is running in this checkout (pid $(cat "$UP_PID")); stop it first with 'make dev-down' (make test starts and stops its own stack on the same ports)"
	fi
}

case "${1:-}" in
up)
	refuse_if_up
	echo $$ >"$UP_PID"
	trap 'log "stopping"; stop_all; rm -f "$UP_PID"; exit 0' INT TERM
	start_all
	print_banner
	while :; do sleep 3600 & wait $!; done
	;;
start)
	refuse_if_up
	start_all
	;;
down)
	if up_alive; then
		p="$(cat "$UP_PID")"
		log "ending the waiting 'make dev' (pid $p)"
		kill -TERM "$p" 2>/dev/null || true
		for ((i = 0; i < 300; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
	fi
	stop_all
	;;
env) cat "$STACK_ENV" ;;
livy2)
	# The HA stack's second Livy alone (e2e: a Livy restart), same env as start.
	[ -n "$DEV_HA" ] || die "livy2: only with DEV_HA=1"
	case "${2:-}" in start | stop) livy2 "$2" ;; *) die "usage: stack.sh livy2 start|stop" ;; esac
	;;
*)
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
