# shellcheck shell=bash
# Shared helpers for the dev stack scripts under deploy/dev/. Source it:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
#
# Everything the stack downloads, builds or writes at run time lives under one
# git-ignored folder, DEV_CACHE (default: <repo>/.cache/dev):
#   $DEV_CACHE/logs/<name>.log   one log file per component
#   $DEV_CACHE/run/<name>.pid    pid (= process group id) of what a script started
#   $DEV_CACHE/m2                Maven local repository used by the installs
# Nothing here binds a port; components are expected to bind 127.0.0.1 only.

DEV_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEV_DIR/../.." && pwd)"
DEV_CACHE="${DEV_CACHE:-$REPO_ROOT/.cache/dev}"
DEV_LOGS="$DEV_CACHE/logs"
DEV_RUN="$DEV_CACHE/run"
DEV_M2="${DEV_M2:-$DEV_CACHE/m2}"
DEV_HOST=127.0.0.1
mkdir -p "$DEV_CACHE" "$DEV_LOGS" "$DEV_RUN"

# log MSG...: progress line on stderr, prefixed with the calling script's name.
log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "${DEV_COMPONENT:-dev}" "$*" >&2; }

# die MSG...: log and exit 1.
die() { log "ERROR: $*"; exit 1; }

# need_cmd CMD...: fail early with a readable message when a tool is missing.
need_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "'$c' is required but not on PATH"
  done
}

# java_bin: the java to use (JAVA_HOME wins, then PATH).
java_bin() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    echo "$JAVA_HOME/bin/java"
  else
    command -v java || die "java not found (set JAVA_HOME)"
  fi
}

# mvn_cmd ARGS...: Maven in batch mode against the cache's local repository.
mvn_cmd() {
  need_cmd mvn
  mvn -B -ntp -Dmaven.repo.local="$DEV_M2" "$@"
}

# hash_of FILE...: short content hash, used as an install stamp so an edited
# pom or script triggers a reinstall while an unchanged one is reused.
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# stamp_ok DIR HASH / stamp_write DIR HASH: install markers.
stamp_ok() { [ -f "$1/.installed" ] && [ "$(cat "$1/.installed")" = "$2" ]; }
stamp_write() { echo "$2" > "$1/.installed"; }

# log_file NAME: path of a component's log file.
log_file() { echo "$DEV_LOGS/$1.log"; }

# tail_log FILE [LINES]: print the tail of a log, framed, on stderr.
tail_log() {
  local f="$1" n="${2:-60}"
  if [ -f "$f" ]; then
    echo "----- last $n lines of $f -----" >&2
    tail -n "$n" "$f" >&2
    echo "----- end of $f -----" >&2
  else
    echo "(no log file at $f)" >&2
  fi
}

# rotate_log FILE: keep the previous run's log as FILE.1.
rotate_log() { [ -f "$1" ] && mv -f "$1" "$1.1"; return 0; }

# port_open PORT [HOST]: true when something accepts TCP connections there.
port_open() {
  (exec 3<>"/dev/tcp/${2:-$DEV_HOST}/$1") 2>/dev/null
}

# require_port_free NAME PORT: refuse to start on a port already taken.
require_port_free() {
  if port_open "$2"; then
    die "$1: port $DEV_HOST:$2 is already in use (stop what holds it, or choose another port)"
  fi
}

# pid_file NAME / read_pid NAME / pid_alive NAME
pid_file() { echo "$DEV_RUN/$1.pid"; }
read_pid() { local f; f="$(pid_file "$1")"; [ -f "$f" ] && cat "$f"; }
pid_alive() {
  local p
  p="$(read_pid "$1")" || return 1
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null
}

# start_bg NAME LOGFILE CMD...: start CMD in its own session/process group
# (setsid), stdout+stderr appended to LOGFILE, pid recorded in run/NAME.pid.
# Because the pid is also the process group id, stop_bg ends the whole tree
# (e.g. spark-submit children of Livy) and nothing else.
start_bg() {
  local name="$1" logf="$2"; shift 2
  if pid_alive "$name"; then
    die "$name is already running (pid $(read_pid "$name")); run stop first"
  fi
  local pf; pf="$(pid_file "$name")"
  rm -f "$pf"
  # The child writes its own pid: with job control on, setsid forks and $!
  # would be the short-lived parent instead of the session leader.
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$pf" "$@" >>"$logf" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 50; i++)); do [ -s "$pf" ] && return 0; sleep 0.1; done
  die "$name: could not record its pid"
}

# stop_bg NAME [TIMEOUT_S]: TERM the process group recorded for NAME, wait,
# then KILL what is left. Silent no-op when nothing is recorded.
stop_bg() {
  local name="$1" timeout="${2:-30}" p i
  p="$(read_pid "$name")" || { log "$name: not running (no pid file)"; return 0; }
  if [ -z "$p" ] || ! kill -0 -- "-$p" 2>/dev/null; then
    log "$name: not running (stale pid $p)"
    rm -f "$(pid_file "$name")"
    return 0
  fi
  log "$name: stopping process group $p"
  kill -TERM -- "-$p" 2>/dev/null || true
  for ((i = 0; i < timeout * 5; i++)); do
    kill -0 -- "-$p" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 -- "-$p" 2>/dev/null; then
    log "$name: still alive after ${timeout}s, sending KILL"
    kill -KILL -- "-$p" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$(pid_file "$name")"
  log "$name: stopped"
}

# _wait_loop NAME TIMEOUT LOGFILE PIDNAME DESC CHECK...: poll CHECK every
# second until it succeeds; fail (with the log's tail) on timeout or when the
# process recorded as PIDNAME died. PIDNAME may be empty.
_wait_loop() {
  local name="$1" timeout="$2" logf="$3" pidname="$4" desc="$5"; shift 5
  local start=$SECONDS
  while :; do
    if "$@"; then
      log "$name: $desc after $((SECONDS - start))s"
      return 0
    fi
    if [ -n "$pidname" ] && ! pid_alive "$pidname"; then
      log "$name: process exited before it was ready (waiting for: $desc); log: $logf"
      tail_log "$logf"
      return 1
    fi
    if ((SECONDS - start >= timeout)); then
      log "$name: not ready after ${timeout}s (waiting for: $desc); log: $logf"
      tail_log "$logf"
      return 1
    fi
    sleep 1
  done
}

# wait_for_port NAME PORT TIMEOUT_S LOGFILE [PIDNAME]
wait_for_port() {
  _wait_loop "$1" "$3" "$4" "${5:-}" "port $DEV_HOST:$2 open" port_open "$2"
}

# wait_for_url NAME URL TIMEOUT_S LOGFILE [PIDNAME]: waits for an HTTP 2xx.
wait_for_url() {
  need_cmd curl
  _wait_loop "$1" "$3" "$4" "${5:-}" "$2 answering" _url_ok "$2"
}
_url_ok() { curl -fs -o /dev/null --max-time 5 "$1" 2>/dev/null; }

# wait_for_log NAME PATTERN TIMEOUT_S LOGFILE [PIDNAME]: waits for a line
# matching the extended regexp PATTERN in LOGFILE.
wait_for_log() {
  _wait_loop "$1" "$3" "$4" "${5:-}" "log line /$2/ seen" \
    grep -qE "$2" "$4"
}

# du_mb DIR...: disk use in MB (for progress and reports).
du_mb() { { du -sm "$@" 2>/dev/null || true; } | awk '{s += $1} END {print s + 0}'; }

# apt_install PKG...: Debian packages, installed only by a caller that knows
# they are missing; refreshes the package lists once when the first try fails.
apt_install() {
  need_cmd apt-get
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  log "installing $* with apt-get"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1 ||
    { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null; } ||
    die "apt-get install $* failed"
}
