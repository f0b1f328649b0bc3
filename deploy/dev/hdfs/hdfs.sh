#!/usr/bin/env bash
# Dev HDFS: a real NameNode + DataNode (Hadoop MiniDFSCluster from Maven
# Central) on 127.0.0.1, permissions on, for the livygate dev stack.
#
#   deploy/dev/hdfs/hdfs.sh install          resolve the jars into the cache (idempotent)
#   deploy/dev/hdfs/hdfs.sh start            install if needed, start, wait until ready
#   deploy/dev/hdfs/hdfs.sh stop             stop what start started
#   deploy/dev/hdfs/hdfs.sh status           running or not, with the endpoints
#   deploy/dev/hdfs/hdfs.sh mkhome U[:G]...  create /user/U owned by U:G (mode 700)
#   deploy/dev/hdfs/hdfs.sh reset            wipe the HDFS data (only when stopped)
#   deploy/dev/hdfs/fs.sh ARGS...            the real `hadoop fs` CLI against it
#
# Environment (defaults in brackets):
#   HDFS_PORT [9820]          NameNode RPC port (fs.defaultFS hdfs://127.0.0.1:PORT)
#   HDFS_HTTP_PORT [9870]     NameNode web UI / WebHDFS port
#   HDFS_SUPERUSER [hdfs]     user the NameNode runs as = HDFS superuser
#   HDFS_PROXY_USERS [$(id -un)]  users allowed to impersonate anyone (Livy's OS user), space separated
#   HDFS_GROUP_MAPPING        static user=groups mapping for users unknown to the OS
#                             [alice=analysts;bob=analysts;carol=livygate-admins;hdfs=supergroup]
#   HDFS_HEAP [512m]          JVM max heap of the NameNode+DataNode process
#   HDFS_START_TIMEOUT [180]  seconds start waits for readiness
#   HADOOP_VERSION [from pom] override the Hadoop version resolved from Maven
#   DEV_CACHE [<repo>/.cache/dev]
#
# Files: $DEV_CACHE/hdfs/{lib,data,conf}, log $DEV_CACHE/logs/hdfs.log,
# client config (HADOOP_CONF_DIR) $DEV_CACHE/hdfs/conf, endpoints in
# $DEV_CACHE/hdfs/hdfs.env (shell syntax).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by log() in common.sh
DEV_COMPONENT=hdfs
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$HERE/../common.sh"

HDFS_PORT="${HDFS_PORT:-9820}"
HDFS_HTTP_PORT="${HDFS_HTTP_PORT:-9870}"
HDFS_SUPERUSER="${HDFS_SUPERUSER:-hdfs}"
HDFS_PROXY_USERS="${HDFS_PROXY_USERS:-$(id -un)}"
HDFS_GROUP_MAPPING="${HDFS_GROUP_MAPPING:-alice=analysts;bob=analysts;carol=livygate-admins;hdfs=supergroup}"
HDFS_HEAP="${HDFS_HEAP:-512m}"
HDFS_START_TIMEOUT="${HDFS_START_TIMEOUT:-180}"

HDFS_HOME="$DEV_CACHE/hdfs"
HDFS_LIB="$HDFS_HOME/lib"
HDFS_DATA="$HDFS_HOME/data"
HDFS_CONF="$HDFS_HOME/conf"
HDFS_LOG="$(log_file hdfs)"
HDFS_ENV="$HDFS_HOME/hdfs.env"

install_hdfs() {
  local stamp
  stamp="$(hash_of "$HERE/pom.xml")${HADOOP_VERSION:+-$HADOOP_VERSION}"
  if stamp_ok "$HDFS_LIB" "$stamp"; then
    log "install: up to date ($HDFS_LIB, $(find "$HDFS_LIB" -name "*.jar" | wc -l) jars)"
    return 0
  fi
  need_cmd mvn
  log "install: resolving hadoop-minicluster from Maven Central into $HDFS_LIB (first run downloads ~110 MB)"
  local t0=$SECONDS before after
  before="$(du_mb "$DEV_M2")"
  rm -rf "$HDFS_LIB.new"
  mkdir -p "$HDFS_LIB.new"
  local mvnlog="$DEV_LOGS/hdfs-install.log"
  if ! mvn_cmd -f "$HERE/pom.xml" ${HADOOP_VERSION:+-Dhadoop.version=$HADOOP_VERSION} \
      -Dhdfs.lib.dir="$HDFS_LIB.new" dependency:copy-dependencies >"$mvnlog" 2>&1; then
    tail_log "$mvnlog" 40
    die "install: Maven failed (log: $mvnlog)"
  fi
  rm -rf "$HDFS_LIB"
  mv "$HDFS_LIB.new" "$HDFS_LIB"
  stamp_write "$HDFS_LIB" "$stamp"
  after="$(du_mb "$DEV_M2")"
  log "install: done in $((SECONDS - t0))s, $(find "$HDFS_LIB" -name "*.jar" | wc -l) jars, $(du_mb "$HDFS_LIB") MB (Maven repo +$((after - before)) MB)"
}

write_log4j() {
  mkdir -p "$HDFS_CONF"
  # Server: INFO to stdout (the log file). CLI: warnings only, on stderr.
  cat >"$HDFS_CONF/log4j-server.properties" <<'EOF'
log4j.rootLogger=INFO,console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.out
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %-5p [%t] %c{2}: %m%n
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
log4j.logger.org.apache.hadoop.hdfs.server.datanode.DataNode.clienttrace=WARN
log4j.logger.org.apache.hadoop.hdfs.StateChange=WARN
log4j.logger.org.apache.hadoop.metrics2=WARN
EOF
  cat >"$HDFS_CONF/log4j-cli.properties" <<'EOF'
log4j.rootLogger=WARN,console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.err
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%p %c{2}: %m%n
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
EOF
}

write_env() {
  cat >"$HDFS_ENV" <<EOF
# Written by deploy/dev/hdfs/hdfs.sh start; endpoints of the running dev HDFS.
HDFS_URL=hdfs://$DEV_HOST:$HDFS_PORT
HDFS_NAMENODE=$DEV_HOST:$HDFS_PORT
HDFS_HTTP_URL=http://$DEV_HOST:$HDFS_HTTP_PORT
HDFS_SUPERUSER=$HDFS_SUPERUSER
HDFS_PROXY_USERS="$HDFS_PROXY_USERS"
HADOOP_CONF_DIR=$HDFS_CONF
HDFS_LIB=$HDFS_LIB
EOF
}

start_hdfs() {
  install_hdfs
  if pid_alive hdfs; then
    log "start: already running (pid $(read_pid hdfs)) on hdfs://$DEV_HOST:$HDFS_PORT"
    return 0
  fi
  require_port_free "hdfs NameNode" "$HDFS_PORT"
  require_port_free "hdfs NameNode web" "$HDFS_HTTP_PORT"
  write_log4j
  mkdir -p "$HDFS_DATA"
  rotate_log "$HDFS_LOG"
  local args=(--port "$HDFS_PORT" --http-port "$HDFS_HTTP_PORT" --dir "$HDFS_DATA"
    --conf-dir "$HDFS_CONF" --groups "$HDFS_GROUP_MAPPING")
  local u
  for u in $HDFS_PROXY_USERS; do args+=(--proxyuser "$u"); done
  log "start: NameNode hdfs://$DEV_HOST:$HDFS_PORT (web $HDFS_HTTP_PORT) as superuser '$HDFS_SUPERUSER', proxy users: $HDFS_PROXY_USERS; log: $HDFS_LOG"
  local t0=$SECONDS
  # Run from HERE so the single-file launcher finds MiniHdfs.java; data and
  # config go to absolute cache paths.
  (cd "$HERE" && HADOOP_USER_NAME="$HDFS_SUPERUSER" start_bg hdfs "$HDFS_LOG" \
    "$(java_bin)" -Xmx"$HDFS_HEAP" -Xms64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Djava.net.preferIPv4Stack=true \
    -Dlog4j.configuration="file:$HDFS_CONF/log4j-server.properties" \
    -cp "$HDFS_LIB/*" MiniHdfs.java "${args[@]}")
  if ! wait_for_log hdfs '^MINIHDFS READY' "$HDFS_START_TIMEOUT" "$HDFS_LOG" hdfs; then
    stop_bg hdfs 10
    die "start: HDFS did not come up (log: $HDFS_LOG)"
  fi
  write_env
  log "start: ready in $((SECONDS - t0))s: $(grep -m1 '^MINIHDFS READY' "$HDFS_LOG" | cut -d' ' -f3-)"
  log "start: HADOOP_CONF_DIR=$HDFS_CONF, endpoints in $HDFS_ENV"
}

status_hdfs() {
  if pid_alive hdfs; then
    echo "hdfs: running, pid $(read_pid hdfs), hdfs://$DEV_HOST:$HDFS_PORT, web http://$DEV_HOST:$HDFS_HTTP_PORT, log $HDFS_LOG"
  else
    echo "hdfs: not running"
    return 1
  fi
}

# mkhome USER[:GROUP]...: /user/USER owned by USER:GROUP (default group:
# the user's first group in HDFS_GROUP_MAPPING, else USER), mode 700.
mkhome() {
  [ $# -gt 0 ] || die "usage: hdfs.sh mkhome USER[:GROUP]..."
  pid_alive hdfs || die "mkhome: HDFS is not running (hdfs.sh start)"
  local spec user group cmds=()
  for spec in "$@"; do
    user="${spec%%:*}"
    group="${spec#*:}"
    if [ "$group" = "$spec" ]; then
      group="$(printf '%s' "$HDFS_GROUP_MAPPING" | tr ';' '\n' | sed -n "s/^$user=\([^,]*\).*/\1/p" | head -1)"
      group="${group:-$user}"
    fi
    cmds+=("/user/$user:$user:$group")
  done
  local dirs=() c
  for c in "${cmds[@]}"; do dirs+=("${c%%:*}"); done
  HADOOP_USER_NAME="$HDFS_SUPERUSER" "$HERE/fs.sh" -mkdir -p "${dirs[@]}"
  for c in "${cmds[@]}"; do
    HADOOP_USER_NAME="$HDFS_SUPERUSER" "$HERE/fs.sh" -chown "${c#*:}" "${c%%:*}"
  done
  HADOOP_USER_NAME="$HDFS_SUPERUSER" "$HERE/fs.sh" -chmod 700 "${dirs[@]}"
  HADOOP_USER_NAME="$HDFS_SUPERUSER" "$HERE/fs.sh" -ls -d "${dirs[@]}"
}

case "${1:-}" in
  install) install_hdfs ;;
  start) start_hdfs ;;
  stop) stop_bg hdfs 30 ;;
  status) status_hdfs ;;
  mkhome) shift; mkhome "$@" ;;
  reset)
    pid_alive hdfs && die "reset: stop HDFS first"
    rm -rf "$HDFS_DATA"
    log "reset: removed $HDFS_DATA"
    ;;
  *)
    echo "usage: $0 install|start|stop|status|mkhome USER[:GROUP]...|reset" >&2
    exit 2
    ;;
esac
