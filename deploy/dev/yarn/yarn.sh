#!/usr/bin/env bash
# Dev YARN: a real ResourceManager + NodeManager (Hadoop 3.4, from
# hadoop-minicluster on Maven Central) on 127.0.0.1, on top of the dev HDFS
# (deploy/dev/hdfs/hdfs.sh), for `livy.spark.master = yarn` (the stack's
# DEV_SPARK_MASTER=yarn).
#
#   deploy/dev/yarn/yarn.sh install   resolve the jars into the cache (hdfs.sh install; idempotent)
#   deploy/dev/yarn/yarn.sh start     install if needed, start, wait until the node is registered
#   deploy/dev/yarn/yarn.sh stop      stop what start started (and every container it runs)
#   deploy/dev/yarn/yarn.sh status    running or not, with the endpoints
#   deploy/dev/yarn/yarn.sh apps      the ResourceManager's applications (id, user, name, state)
#
# HDFS must be running: the ResourceManager reads its client configuration
# (fs.defaultFS, the static group mapping, the hadoop.proxyuser.* rules that
# let Livy's OS user submit applications as alice) from $DEV_CACHE/hdfs/conf.
# start writes a complete client configuration (HADOOP_CONF_DIR) for Livy and
# Spark to $DEV_CACHE/yarn/conf: HDFS's core-site.xml and hdfs-site.xml plus
# yarn-site.xml.
#
# Containers run as this script's OS user (DefaultContainerExecutor); YARN's
# application user is the proxy user. Memory checks are off.
#
# Environment (defaults in brackets; the defaults are Hadoop's own ports):
#   YARN_RM_PORT [8032]          ResourceManager client RPC (yarn.resourcemanager.address)
#   YARN_SCHEDULER_PORT [8030]   ResourceManager scheduler RPC (ApplicationMasters)
#   YARN_TRACKER_PORT [8031]     ResourceManager resource tracker RPC (NodeManager)
#   YARN_ADMIN_PORT [8033]       ResourceManager admin RPC
#   YARN_WEB_PORT [8088]         ResourceManager web UI and REST API (/ws/v1/cluster/apps)
#   YARN_NM_PORT [8041]          NodeManager RPC (container management)
#   YARN_LOCALIZER_PORT [8040]   NodeManager localizer RPC
#   YARN_NM_WEB_PORT [8042]      NodeManager web UI
#   YARN_NM_MEMORY_MB [4096]     memory the NodeManager offers to containers
#   YARN_NM_VCORES [4]           vcores the NodeManager offers
#   YARN_MIN_ALLOCATION_MB [128] yarn.scheduler.minimum-allocation-mb
#   YARN_HEAP [384m]             JVM max heap of the RM+NM process
#   YARN_START_TIMEOUT [180]     seconds start waits for readiness
#   DEV_CACHE [<repo>/.cache/dev]
#
# Files: $DEV_CACHE/yarn/{work,conf}, jars $DEV_CACHE/hdfs/lib, log $DEV_CACHE/logs/yarn.log
# (container logs under $DEV_CACHE/yarn/work/nm-logs), endpoints in
# $DEV_CACHE/yarn/yarn.env (shell syntax).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by log() in common.sh
DEV_COMPONENT=yarn
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$HERE/../common.sh"

YARN_RM_PORT="${YARN_RM_PORT:-8032}"
YARN_SCHEDULER_PORT="${YARN_SCHEDULER_PORT:-8030}"
YARN_TRACKER_PORT="${YARN_TRACKER_PORT:-8031}"
YARN_ADMIN_PORT="${YARN_ADMIN_PORT:-8033}"
YARN_WEB_PORT="${YARN_WEB_PORT:-8088}"
YARN_NM_PORT="${YARN_NM_PORT:-8041}"
YARN_LOCALIZER_PORT="${YARN_LOCALIZER_PORT:-8040}"
YARN_NM_WEB_PORT="${YARN_NM_WEB_PORT:-8042}"
YARN_NM_MEMORY_MB="${YARN_NM_MEMORY_MB:-4096}"
YARN_NM_VCORES="${YARN_NM_VCORES:-4}"
YARN_MIN_ALLOCATION_MB="${YARN_MIN_ALLOCATION_MB:-128}"
YARN_HEAP="${YARN_HEAP:-384m}"
YARN_START_TIMEOUT="${YARN_START_TIMEOUT:-180}"

YARN_HOME="$DEV_CACHE/yarn"
YARN_LIB="$DEV_CACHE/hdfs/lib"
YARN_WORK="$YARN_HOME/work"
YARN_CONF="$YARN_HOME/conf"
YARN_LOG="$(log_file yarn)"
YARN_ENV="$YARN_HOME/yarn.env"
HDFS_CONF="$DEV_CACHE/hdfs/conf"
RM_URL="http://$DEV_HOST:$YARN_WEB_PORT"

# install_yarn: the ResourceManager and NodeManager come from the same lib
# dir as HDFS (hadoop-minicluster; deploy/dev/hdfs/pom.xml).
install_yarn() { bash "$HERE/../hdfs/hdfs.sh" install; }

write_log4j() {
  mkdir -p "$YARN_CONF"
  cat >"$YARN_HOME/log4j-server.properties" <<'EOF'
log4j.rootLogger=INFO,console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.out
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %-5p [%t] %c{2}: %m%n
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
log4j.logger.org.apache.hadoop.metrics2=WARN
log4j.logger.org.apache.hadoop.ipc=WARN
log4j.logger.org.apache.hadoop.yarn.server.nodemanager.containermanager.monitor=WARN
log4j.logger.org.apache.hadoop.yarn.server.resourcemanager.scheduler.capacity=WARN
log4j.logger.org.apache.hadoop.yarn.server.resourcemanager.RMAuditLogger=WARN
log4j.logger.org.apache.hadoop.yarn.server.nodemanager.NMAuditLogger=WARN
EOF
}

# Java 17: the web apps' Guice (cglib) defines classes through reflection.
JAVA17_OPENS=(--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED)

# java_home: JAVA_HOME, else the home of the java on PATH. Containers start
# $JAVA_HOME/bin/java, so the NodeManager needs it in its environment.
java_home() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    echo "$JAVA_HOME"
  else
    local j
    j="$(readlink -f "$(java_bin)")"
    dirname "$(dirname "$j")"
  fi
}

write_env() {
  cat >"$YARN_ENV" <<EOF
# Written by deploy/dev/yarn/yarn.sh start; endpoints of the running dev YARN.
YARN_RM_URL=$RM_URL
YARN_RM_ADDRESS=$DEV_HOST:$YARN_RM_PORT
YARN_CONF_DIR=$YARN_CONF
YARN_NM_MEMORY_MB=$YARN_NM_MEMORY_MB
YARN_LOG_DIR=$YARN_WORK/nm-logs
EOF
}

start_yarn() {
  install_yarn
  if pid_alive yarn; then
    log "start: already running (pid $(read_pid yarn)), ResourceManager $RM_URL"
    return 0
  fi
  [ -f "$HDFS_CONF/core-site.xml" ] ||
    die "start: no HDFS client config at $HDFS_CONF (start HDFS first: deploy/dev/hdfs/hdfs.sh start)"
  local name port
  for name in RM SCHEDULER TRACKER ADMIN WEB NM LOCALIZER NM_WEB; do
    port="YARN_${name}_PORT"
    require_port_free "yarn ${name,,}" "${!port}"
  done
  write_log4j
  # The client configuration: HDFS's, plus yarn-site.xml once YARN is up.
  rm -f "$YARN_CONF/yarn-site.xml"
  cp "$HDFS_CONF/core-site.xml" "$HDFS_CONF/hdfs-site.xml" "$YARN_CONF/"
  [ -f "$HDFS_CONF/log4j-cli.properties" ] && cp "$HDFS_CONF/log4j-cli.properties" "$YARN_CONF/"
  # Containers and their localized files of a previous run are not reused.
  rm -rf "$YARN_WORK"
  mkdir -p "$YARN_WORK"
  rotate_log "$YARN_LOG"
  log "start: ResourceManager $DEV_HOST:$YARN_RM_PORT (web $RM_URL), NodeManager $DEV_HOST:$YARN_NM_PORT (${YARN_NM_MEMORY_MB} MB, $YARN_NM_VCORES vcores); log: $YARN_LOG"
  local t0=$SECONDS jh
  jh="$(java_home)"
  # The launcher runs from the work dir (Hadoop writes relative paths there);
  # the containers inherit this environment: no HADOOP_USER_NAME.
  (cd "$YARN_WORK" && unset HADOOP_USER_NAME HADOOP_PROXY_USER HADOOP_CONF_DIR &&
    JAVA_HOME="$jh" start_bg yarn "$YARN_LOG" \
    "$jh/bin/java" -Xmx"$YARN_HEAP" -Xms64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Djava.net.preferIPv4Stack=true "${JAVA17_OPENS[@]}" \
    -Dlog4j.configuration="file:$YARN_HOME/log4j-server.properties" \
    -cp "$YARN_LIB/*" "$HERE/MiniYarn.java" \
    --hadoop-conf "$HDFS_CONF" --dir "$YARN_WORK" --conf-dir "$YARN_CONF" \
    --rm-port "$YARN_RM_PORT" --scheduler-port "$YARN_SCHEDULER_PORT" \
    --tracker-port "$YARN_TRACKER_PORT" --admin-port "$YARN_ADMIN_PORT" \
    --web-port "$YARN_WEB_PORT" --nm-port "$YARN_NM_PORT" \
    --localizer-port "$YARN_LOCALIZER_PORT" --nm-web-port "$YARN_NM_WEB_PORT" \
    --nm-memory-mb "$YARN_NM_MEMORY_MB" --nm-vcores "$YARN_NM_VCORES" \
    --min-allocation-mb "$YARN_MIN_ALLOCATION_MB")
  if ! wait_for_log yarn '^MINIYARN READY' "$YARN_START_TIMEOUT" "$YARN_LOG" yarn; then
    stop_bg yarn 10
    die "start: YARN did not come up (log: $YARN_LOG)"
  fi
  if ! wait_for_url yarn "$RM_URL/ws/v1/cluster/info" 60 "$YARN_LOG" yarn; then
    stop_bg yarn 10
    die "start: the ResourceManager's REST API does not answer at $RM_URL (log: $YARN_LOG)"
  fi
  write_env
  log "start: ready in $((SECONDS - t0))s: $(grep -m1 '^MINIYARN READY' "$YARN_LOG" | cut -d' ' -f3-)"
  log "start: HADOOP_CONF_DIR=$YARN_CONF, endpoints in $YARN_ENV"
}

# stop_yarn: the RM+NM process, then any container it left behind. The
# NodeManager starts each container in its own session (setsid) and kills
# them when it stops; a container whose pid file (nmPrivate/.../*.pid) names
# a live process group after that is ended too.
stop_yarn() {
  stop_bg yarn 30
  local f p
  while IFS= read -r f; do
    p="$(cat "$f" 2>/dev/null)" || continue
    [[ "$p" =~ ^[0-9]+$ ]] || continue
    if kill -0 -- "-$p" 2>/dev/null; then
      log "stop: ending container process group $p ($(basename "$f" .pid))"
      kill -KILL -- "-$p" 2>/dev/null || true
    fi
  done < <(find "$YARN_WORK/nm-local/nmPrivate" -name 'container_*.pid' 2>/dev/null)
  # The localized files (Spark's jars, unpacked: ~340 MB); the container
  # logs stay in $YARN_WORK/nm-logs until the next start.
  rm -rf "$YARN_WORK/nm-local"
}

status_yarn() {
  if pid_alive yarn; then
    echo "yarn: running, pid $(read_pid yarn), ResourceManager $RM_URL, log $YARN_LOG"
  else
    echo "yarn: not running"
    return 1
  fi
}

apps_yarn() {
  need_cmd curl python3
  curl -fsS "$RM_URL/ws/v1/cluster/apps" | python3 -c '
import json, sys
apps = (json.load(sys.stdin).get("apps") or {}).get("app") or []
for a in sorted(apps, key=lambda a: a["id"]):
    print(a["id"], a["user"], a["name"], a["state"], a["finalStatus"], sep="\t")'
}

case "${1:-}" in
  install) install_yarn ;;
  start) start_yarn ;;
  stop) stop_yarn ;;
  status) status_yarn ;;
  apps) apps_yarn ;;
  *)
    echo "usage: $0 install|start|stop|status|apps" >&2
    exit 2
    ;;
esac
