#!/usr/bin/env bash
# JupyterHub + Sparkmagic for livygate's dev/test stack, on 127.0.0.1 only.
#
#   hub.sh install   venv + pinned packages + Sparkmagic's kernels (+ the proxy, with notebooks) (idempotent)
#   hub.sh start     install if needed, start JupyterHub, wait for GET /hub/api/ (and the proxy)
#   hub.sh stop      stop the JupyterHub this script started
#   hub.sh status    exit 0 if running
#   hub.sh env       print shell-sourceable endpoints and paths
#   hub.sh reset     stop and delete the Hub database (users/tokens); keeps the service token
#   hub.sh lock      regenerate requirements.txt from requirements.in (maintainers;
#                    keeps the current pins unless DEV_HUB_LOCK_UPGRADE=1)
#
# Environment:
#   DEV_CACHE                     cache root (default <repo>/.cache/dev; see ../common.sh)
#   DEV_PYTHON               interpreter for the venv (default python3.11, then python3 if 3.11)
#   DEV_HUB_PORT             hub port (default 8081)
#   DEV_HUB_PAGE_MAX_LIMIT   JupyterHub api_page_max_limit (default 200)
#   DEV_HUB_USERS / DEV_HUB_ADMINS   demo users (default alice,bob,carol / carol)
#   DEV_HUB_START_TIMEOUT    seconds to wait for the API (default 90)
#   DEV_HUB_INSTANCE         instance name (default jupyterhub): names the state dir,
#                                 log and pid file, so a test can run its own Hub beside make dev's
#   DEV_HUB_LDAP_URL         ldap://127.0.0.1:PORT: users log in with their LDAP password
#                                 (unset: API only, every login refused)
#   DEV_HUB_NOTEBOOKS        1: real single-user JupyterLab servers behind configurable-http-proxy
#                                 (npm, installed into the cache), kernels reach the gateway with
#                                 the user's Hub token; needs DEV_HUB_GATEWAY_URL
#   DEV_HUB_GATEWAY_URL      livygate's URL written into the kernels' Sparkmagic config
#   DEV_HUB_PUBLIC_PORT      the proxy's public port, where a person logs in (default 8000)
#   DEV_HUB_PROXY_API_PORT   the proxy's REST API port (default 8001)
#
# Layout under the cache root:
#   py/                     the venv (py/bin/python, py/bin/jupyterhub ...)
#   pip-wheels/             wheelhouse of the pinned packages (pip's HTTP cache does not work here)
#   jupyter/                JUPYTER_DATA_DIR holding kernels/pysparkkernel and kernels/sparkkernel
#   chp/                    configurable-http-proxy (npm ci of chp/package-lock.json); npm-cache/ its downloads
#   jupyterhub/             Hub state: sqlite db, cookie secret, service token (0600);
#                           with notebooks also homes/<user>/ and sparkmagic/config.json
#   run/jupyterhub.pid      pid (= process group) of the running Hub
#   logs/jupyterhub.log     the Hub's log (previous run: jupyterhub.log.1)
#   (jupyterhub/, run/jupyterhub.pid and logs/jupyterhub.log are named after DEV_HUB_INSTANCE)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by log() in common.sh
DEV_COMPONENT="${DEV_HUB_INSTANCE:-jupyterhub}"
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$HERE/../common.sh"
CACHE="$DEV_CACHE"
VENV="$CACHE/py"
WHEELS="$CACHE/pip-wheels"
JDATA="$CACHE/jupyter"
INSTANCE="${DEV_HUB_INSTANCE:-jupyterhub}"
[[ "$INSTANCE" =~ ^jupyterhub[a-z0-9-]*$ ]] || die "DEV_HUB_INSTANCE must match jupyterhub[a-z0-9-]*"
STATE="$CACHE/$INSTANCE"
LOGDIR="$DEV_LOGS"
LOG="$(log_file "$INSTANCE")"
INSTALL_LOCK="$CACHE/jupyterhub/.install.lock"
TOKEN_FILE="$STATE/livygate-service-token"
REQ="$HERE/requirements.txt"
CONFIG="$HERE/jupyterhub_config.py"
PORT="${DEV_HUB_PORT:-8081}"
URL="http://127.0.0.1:$PORT"
STAMP="$VENV/.livygate-hub-stamp"
NOTEBOOKS="${DEV_HUB_NOTEBOOKS:-0}"
PUBLIC_PORT="${DEV_HUB_PUBLIC_PORT:-8000}"
PROXY_API_PORT="${DEV_HUB_PROXY_API_PORT:-8001}"
PUBLIC_URL="http://127.0.0.1:$PUBLIC_PORT"
CHP_SRC="$HERE/chp"
CHP_DIR="$CACHE/chp"
CHP_BIN="$CHP_DIR/node_modules/.bin/configurable-http-proxy"
HOMES="$STATE/homes"
SM_CONF_DIR="$STATE/sparkmagic"
LAB_CONF_DIR="$STATE/jupyter-config"
KERNELS="pysparkkernel sparkkernel"

pick_python() {
  local cand
  if [ -n "${DEV_PYTHON:-}" ]; then
    command -v "$DEV_PYTHON" >/dev/null 2>&1 || die "DEV_PYTHON=$DEV_PYTHON not found"
    echo "$DEV_PYTHON"; return
  fi
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      echo "$cand"; return
    fi
  done
  die "need CPython 3.11 (the lock in requirements.txt is verified on 3.11); set DEV_PYTHON"
}

make_venv() {
  local py="$1"
  if "$py" -m venv "$VENV"; then return; fi
  # Debian's own python3 ships ensurepip separately.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "python -m venv failed; installing python3-venv with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >/dev/null ||
      { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >/dev/null; }
    rm -rf "$VENV"
    "$py" -m venv "$VENV" && return
  fi
  die "could not create a venv with $py (on Debian: apt-get install python3-venv)"
}

stamp_value() {
  # Anything that should trigger a reinstall when it changes.
  {
    sha256sum "$REQ" | cut -d' ' -f1
    "$VENV/bin/python" -c 'import sys; print(sys.version)'
    echo "kernelspec-v2 $KERNELS pyc-v1 $JDATA"
  } | sha256sum | cut -d' ' -f1
}

# install_kernelspec: Sparkmagic's PySpark and Spark (Scala) kernels.
install_kernelspec() {
  local k src
  mkdir -p "$JDATA"
  for k in $KERNELS; do
    src="$("$VENV/bin/python" -c 'import os, sys, sparkmagic; print(os.path.join(os.path.dirname(sparkmagic.__file__), "kernels", sys.argv[1]))' "$k")"
    JUPYTER_DATA_DIR="$JDATA" "$VENV/bin/jupyter" kernelspec install --user --replace \
      --name "$k" "$src" >/dev/null 2>&1 || die "could not install the $k kernelspec"
    # Pin the kernel to this venv's interpreter instead of whatever `python` is on PATH.
    "$VENV/bin/python" - "$JDATA/kernels/$k/kernel.json" "$VENV/bin/python" <<'EOF'
import json, sys
path, py = sys.argv[1], sys.argv[2]
with open(path) as f:
    spec = json.load(f)
spec["argv"][0] = py
with open(path, "w") as f:
    json.dump(spec, f, indent=1)
EOF
  done
}

# install_chp: configurable-http-proxy from npm, exactly as chp/package-lock.json
# pins it, into the cache (npm ci; skipped while the lock is unchanged).
install_chp() {
  local want
  want="$(cat "$CHP_SRC/package.json" "$CHP_SRC/package-lock.json" | sha256sum | cut -d' ' -f1)"
  if [ -x "$CHP_BIN" ] && [ "$(cat "$CHP_DIR/.stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  node -e 'process.exit(parseInt(process.versions.node) >= 20 ? 0 : 1)' ||
    die "configurable-http-proxy 5.2 needs Node.js >= 20, found $(node --version)"
  log "installing configurable-http-proxy with npm ci into $CHP_DIR"
  rm -rf "$CHP_DIR"
  mkdir -p "$CHP_DIR" "$CACHE/npm-cache"
  cp "$CHP_SRC/package.json" "$CHP_SRC/package-lock.json" "$CHP_DIR/"
  if ! (cd "$CHP_DIR" && npm ci --no-audit --no-fund --cache "$CACHE/npm-cache" --loglevel=error) \
      >"$LOGDIR/hub-npm-install.log" 2>&1; then
    tail -n 30 "$LOGDIR/hub-npm-install.log" >&2
    die "npm ci failed; full log: $LOGDIR/hub-npm-install.log"
  fi
  [ -x "$CHP_BIN" ] || die "npm ci did not install $CHP_BIN"
  echo "$want" >"$CHP_DIR/.stamp"
  log "configurable-http-proxy $("$CHP_BIN" --version) installed"
}

cmd_install() {
  mkdir -p "$CACHE" "$(dirname "$INSTALL_LOCK")" "$LOGDIR"
  # Serialise concurrent installs (make dev and a test run at the same time).
  exec 9>"$INSTALL_LOCK"
  flock 9
  [ "$NOTEBOOKS" != 1 ] || install_chp
  if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(stamp_value)" ]; then
    log "venv up to date: $VENV"
    exec 9>&-; return 0
  fi
  local t0 py n
  t0=$(date +%s)
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
    py="$(pick_python)"
    log "creating venv $VENV with $py ($("$py" -c 'import sys; print(sys.version.split()[0])'))"
    rm -rf "$VENV"
    make_venv "$py"
  fi
  n=$(grep -c '==' "$REQ")
  # The registry's file responses carry no cache headers, so pip's own HTTP
  # cache stores nothing here: keep a wheelhouse instead and install offline from it.
  # --no-compile: byte-compiling ~600 MB of packages up front costs more than
  # compiling, on first import, the few modules that are used.
  local pipopts=(--disable-pip-version-check --no-input --progress-bar off)
  if ! "$VENV/bin/pip" install "${pipopts[@]}" --no-compile --no-deps --no-index --find-links "$WHEELS" \
      -r "$REQ" >"$LOGDIR/hub-pip-install.log" 2>&1; then
    log "downloading $n pinned wheels into $WHEELS (cold: ~1 min, ~150 MB; log: $LOGDIR/hub-pip-install.log)"
    mkdir -p "$WHEELS"
    if ! "$VENV/bin/pip" download "${pipopts[@]}" --no-deps --only-binary :all: -d "$WHEELS" \
        -r "$REQ" >"$LOGDIR/hub-pip-install.log" 2>&1 ||
       ! "$VENV/bin/pip" install "${pipopts[@]}" --no-compile --no-deps --no-index --find-links "$WHEELS" \
        -r "$REQ" >>"$LOGDIR/hub-pip-install.log" 2>&1; then
      tail -n 30 "$LOGDIR/hub-pip-install.log" >&2
      die "pip failed; full log: $LOGDIR/hub-pip-install.log"
    fi
  fi
  "$VENV/bin/pip" check >&2 || die "pip check failed: requirements.txt is inconsistent"
  "$VENV/bin/python" -c 'import jupyterhub, jupyter_client, sparkmagic.utils.configuration, requests_kerberos, pytest, jwt, ldapauthenticator, jupyterlab' ||
    die "installed packages do not import"
  install_kernelspec
  # Byte-compile what the Hub and the kernel import (pip ran with --no-compile, and
  # PYTHONDONTWRITEBYTECODE may be set): halves kernel start (~4 s -> ~1.7 s).
  env -u PYTHONDONTWRITEBYTECODE "$VENV/bin/python" -c 'import jupyterhub.app, jupyterhub.proxy, jupyterhub.auth, jupyterhub.spawner, jupyter_client, ipykernel.kernelapp, sparkmagic.kernels.pysparkkernel.pysparkkernel, sparkmagic.kernels.sparkkernel.sparkkernel, sparkmagic.kernels.kernelmagics, ldapauthenticator, jupyterhub.singleuser, jupyter_server.serverapp, jupyterlab.labapp, sparkmagic.auth.basic, autovizwidget.widget.utils, plotly.graph_objs, pandas, requests, pytest, jwt' >/dev/null 2>&1 ||
    log "warning: could not pre-compile the kernel's modules (only slower starts)"
  stamp_value >"$STAMP"
  log "installed in $(( $(date +%s) - t0 ))s: $("$VENV/bin/python" -c 'import jupyterhub, sparkmagic, ipykernel; print("jupyterhub", jupyterhub.__version__, "sparkmagic", sparkmagic.__version__, "ipykernel", ipykernel.__version__)')"
  exec 9>&-
}

api_up() { curl -sf -m 2 "$URL/hub/api/" >/dev/null 2>&1; }

# write_sparkmagic_config: the kernels' Sparkmagic config (deploy/sparkmagic/config.json
# with the stack's gateway URL: auth JupyterHubToken, so no password anywhere) and
# JupyterLab's page config.
write_sparkmagic_config() {
  [ -n "${DEV_HUB_GATEWAY_URL:-}" ] || die "DEV_HUB_NOTEBOOKS=1 needs DEV_HUB_GATEWAY_URL (livygate's URL)"
  mkdir -p "$SM_CONF_DIR"
  "$VENV/bin/python" - "$REPO_ROOT/deploy/sparkmagic/config.json" "$DEV_HUB_GATEWAY_URL" \
      >"$SM_CONF_DIR/config.json.tmp" <<'EOF'
import json, sys
src, url = sys.argv[1:]
with open(src) as f:
    conf = json.load(f)
for kind in ("kernel_python_credentials", "kernel_scala_credentials"):
    conf[kind]["url"] = url
    assert conf[kind]["auth"] == "JupyterHubToken" and "password" not in conf[kind]
print(json.dumps(conf, indent=2))
EOF
  mv -f "$SM_CONF_DIR/config.json.tmp" "$SM_CONF_DIR/config.json"
  # JupyterLab: no "news" announcements fetched from the internet.
  mkdir -p "$LAB_CONF_DIR/labconfig"
  echo '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}' \
    >"$LAB_CONF_DIR/labconfig/page_config.json"
}

# kill_strays: a proxy the Hub started (in its own session) that outlived it.
kill_strays() {
  local pf="$STATE/proxy.pid" p
  [ -f "$pf" ] || return 0
  p="$(cat "$pf" 2>/dev/null || true)"
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null && grep -qa configurable-http-proxy "/proc/$p/cmdline" 2>/dev/null; then
    log "stopping the proxy left behind (pid $p)"
    kill -TERM "$p" 2>/dev/null || true
    sleep 1
    kill -KILL "$p" 2>/dev/null || true
  fi
  rm -f "$pf"
}

ensure_token() {
  if [ ! -s "$TOKEN_FILE" ]; then
    (umask 077; "$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(32))' >"$TOKEN_FILE")
    log "generated the livygate service token: $TOKEN_FILE"
  fi
  chmod 600 "$TOKEN_FILE"
}

cmd_start() {
  cmd_install
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  ensure_token
  local t0=$SECONDS
  if pid_alive "$INSTANCE"; then
    if api_up; then log "already running (pid $(read_pid "$INSTANCE")) at $URL"; return 0; fi
    die "pid $(read_pid "$INSTANCE") is running but $URL/hub/api/ does not answer; see $LOG (run: hub.sh stop)"
  fi
  require_port_free "$INSTANCE" "$PORT"
  if [ "$NOTEBOOKS" = 1 ]; then
    kill_strays
    require_port_free "$INSTANCE proxy" "$PUBLIC_PORT"
    require_port_free "$INSTANCE proxy API" "$PROXY_API_PORT"
    mkdir -p "$HOMES"
    chmod 700 "$HOMES"
    write_sparkmagic_config
  fi
  rotate_log "$LOG"
  (
    cd "$STATE"
    export DEV_HUB_PORT="$PORT" DEV_HUB_STATE_DIR="$STATE"
    if [ "$NOTEBOOKS" = 1 ]; then
      export DEV_HUB_NOTEBOOKS=1 DEV_HUB_PUBLIC_PORT="$PUBLIC_PORT" DEV_HUB_PROXY_API_PORT="$PROXY_API_PORT" \
        DEV_HUB_CHP="$CHP_BIN" DEV_HUB_SINGLEUSER="$VENV/bin/jupyterhub-singleuser" DEV_HUB_HOMES="$HOMES" \
        DEV_HUB_JUPYTER_PATH="$JDATA" DEV_HUB_JUPYTER_CONFIG_PATH="$LAB_CONF_DIR" DEV_HUB_SPARKMAGIC_CONF_DIR="$SM_CONF_DIR" \
        DEV_HUB_SPARKMAGIC_PYTHONPATH="$REPO_ROOT/deploy/sparkmagic"
    else
      unset DEV_HUB_NOTEBOOKS
    fi
    DEV_HUB_SERVICE_TOKEN="$(cat "$TOKEN_FILE")"
    export DEV_HUB_SERVICE_TOKEN JUPYTER_DATA_DIR="$JDATA" PYTHONUNBUFFERED=1
    unset PYTHONDONTWRITEBYTECODE
    start_bg "$INSTANCE" "$LOG" "$VENV/bin/jupyterhub" -f "$CONFIG"
  ) || exit 1
  if ! wait_for_url "$INSTANCE" "$URL/hub/api/" "${DEV_HUB_START_TIMEOUT:-90}" "$LOG" "$INSTANCE"; then
    cmd_stop
    die "JupyterHub did not come up; log: $LOG"
  fi
  if [ "$NOTEBOOKS" = 1 ] && ! wait_for_url "$INSTANCE" "$PUBLIC_URL/hub/login" 30 "$LOG" "$INSTANCE"; then
    cmd_stop
    die "the proxy did not come up at $PUBLIC_URL; log: $LOG"
  fi
  log "JupyterHub $(curl -s "$URL/hub/api/" | tr -d '\n') at $URL, up in $((SECONDS - t0))s (pid $(read_pid "$INSTANCE"))"
  log "service 'livygate' token file: $TOKEN_FILE   log: $LOG"
  if [ "$NOTEBOOKS" = 1 ]; then
    log "notebooks: log in at $PUBLIC_URL/ (LDAP passwords); homes in $HOMES"
  fi
}

# The single-user servers share the Hub's process group; the proxy does not.
cmd_stop() { stop_bg "$INSTANCE" 20; kill_strays; }

cmd_status() {
  if pid_alive "$INSTANCE" && api_up; then
    log "running (pid $(read_pid "$INSTANCE")) at $URL: $(curl -s "$URL/hub/api/")"
    return 0
  fi
  log "not running"
  return 1
}

cmd_env() {
  cat <<EOF
DEV_HUB_URL=$URL
DEV_HUB_API_URL=$URL/hub/api
DEV_HUB_SERVICE_NAME=livygate
DEV_HUB_SERVICE_TOKEN_FILE=$TOKEN_FILE
DEV_HUB_LOG=$LOG
DEV_HUB_DEMO_USERS=${DEV_HUB_USERS:-alice,bob,carol}
DEV_HUB_DEMO_ADMINS=${DEV_HUB_ADMINS:-carol}
DEV_PYTHON_BIN=$VENV/bin/python
DEV_JUPYTER_DATA_DIR=$JDATA
DEV_HUB_PUBLIC_URL=$PUBLIC_URL
DEV_HUB_HOMES=$HOMES
DEV_HUB_SPARKMAGIC_CONF_DIR=$SM_CONF_DIR
EOF
}

cmd_reset() {
  cmd_stop
  rm -f "$STATE/jupyterhub.sqlite" "$STATE/jupyterhub_cookie_secret"
  log "deleted the Hub database; next start recreates the demo users"
}

cmd_lock() {
  # Resolve requirements.in in a throwaway venv and freeze it into requirements.txt.
  local tmp py
  py="$(pick_python)"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  "$py" -m venv "$tmp/venv"
  local pip=("$tmp/venv/bin/pip" install --disable-pip-version-check -q)
  # Keep every pin of the current lock that still fits (a new top-level
  # package only adds its own dependencies); DEV_HUB_LOCK_UPGRADE=1 re-resolves all.
  if [ "${DEV_HUB_LOCK_UPGRADE:-0}" != 1 ] && [ -f "$REQ" ]; then
    grep '==' "$REQ" >"$tmp/constraints.txt"
    pip+=(-c "$tmp/constraints.txt")
  fi
  grep -E '#.*no-deps' "$HERE/requirements.in" | sed 's/#.*//' >"$tmp/nodeps.txt"
  grep -vE '#.*no-deps' "$HERE/requirements.in" | sed 's/#.*//' | grep -v '^\s*$' >"$tmp/deps.txt"
  "${pip[@]}" --no-deps -r "$tmp/nodeps.txt"
  "${pip[@]}" -r "$tmp/deps.txt"
  "$tmp/venv/bin/pip" check
  {
    echo "# GENERATED by 'deploy/dev/jupyterhub/hub.sh lock' from requirements.in on $(date -u +%Y-%m-%d)"
    echo "# with $("$tmp/venv/bin/python" -c 'import sys; print("CPython", sys.version.split()[0])'). Installed with 'pip install --no-deps -r' (see requirements.in:"
    echo "# gssapi/krb5, sdist-only Kerberos extras of requests-kerberos, are deliberately absent)."
    "$tmp/venv/bin/pip" freeze --exclude-editable | grep -viE '^(pip|setuptools|wheel)=='
  } >"$REQ"
  log "wrote $REQ ($(grep -c '==' "$REQ") pins)"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  reset) cmd_reset ;;
  lock) cmd_lock ;;
  *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
