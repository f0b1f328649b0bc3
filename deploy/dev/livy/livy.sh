#!/usr/bin/env bash
# Dev Livy: Apache Livy 0.7.1-incubating (Maven Central) on Java 17, with
# Spark 3.5 (PyPI pyspark) as SPARK_HOME, in local[1] mode on 127.0.0.1,
# impersonation on, its Hadoop configuration pointing at the dev HDFS
# (deploy/dev/hdfs/hdfs.sh).
#
#   deploy/dev/livy/livy.sh install   venv + pyspark, Livy home from Maven (idempotent)
#   deploy/dev/livy/livy.sh start     install if needed, start, wait until ready
#   deploy/dev/livy/livy.sh stop      stop Livy and every Spark driver it started
#   deploy/dev/livy/livy.sh status
#
# What works and what does not (verified; deploy/dev/livy/smoke.sh checks the first):
#   - Batches work: POST /batches {"file": "hdfs:///...py", "proxyUser": "alice"}
#     runs `spark-submit --proxy-user alice`, reaches `success`, and what the job
#     writes to HDFS is owned by alice.
#   - Interactive sessions do NOT work. Maven Central, as this project's
#     machines reach it, serves no livy-repl_2.11/_2.12 artifact (the jar with
#     org.apache.livy.repl.ReplDriver, which Livy hard-codes as the session's
#     driver class), and no Livy 0.8/0.9 at all. POST /sessions is answered
#     400 {"msg":"requirement failed: Cannot find Livy REPL jars."}. (Pointing
#     livy.repl.jars at any other jar through LIVY_CONF_EXTRA gets a 201, then
#     the session goes starting -> dead with
#     "java.lang.ClassNotFoundException: org.apache.livy.repl.ReplDriver".)
#   - Livy 0.7.1 only warns about Spark 3.5 ("Current Spark (3,5) is not
#     verified in Livy, please use it carefully") and needs no --add-opens on
#     Java 17 for what runs here: the server (Scala 2.11, Jetty 9.3, Hadoop
#     2.7.3 client) and spark-submit (Spark 3.5 adds its own flags).
#
# Environment (defaults in brackets):
#   LIVY_PORT [8998]               Livy REST port on 127.0.0.1
#   LIVY_RSC_PORT_RANGE [10000~10010]  ports of Livy's RSC launcher, used only when an
#                                  interactive session starts (never, by default). Pitfall:
#                                  Livy's RpcServer binds that port on all interfaces.
#   LIVY_HEAP [384m]               Livy server JVM max heap
#   LIVY_DRIVER_MEMORY [512m]      default heap of each Spark driver (one per batch)
#   LIVY_MAX_CREATION [2]          livy.server.session.max-creation
#   LIVY_CSRF [true]               livy.server.csrf-protection.enabled (clients send X-Requested-By)
#   LIVY_IMPERSONATION [true]      livy.impersonation.enabled. With false, Livy silently drops
#                                  proxyUser (answers "proxyUser": null) and jobs run as
#                                  Livy's OS user.
#   LIVY_CONF_EXTRA                extra livy.conf lines, appended verbatim (tests, experiments)
#   LIVY_JAVA_OPTS                 extra JVM flags for the Livy server
#   LIVY_START_TIMEOUT [180]       seconds start waits for readiness
#   LIVY_HADOOP_CONF_DIR [$DEV_CACHE/hdfs/conf]  HADOOP_CONF_DIR for Livy and Spark (written by hdfs.sh start)
#   PYSPARK_SPEC ['pyspark==3.5.*']  pip requirement for Spark
#   DEV_CACHE [<repo>/.cache/dev]
#
# Files: $DEV_CACHE/livy/{venv,home,spark-conf,work}, log
# $DEV_CACHE/logs/livy.log (Jetty request log in $DEV_CACHE/logs/livy-requests/),
# endpoints in $DEV_CACHE/livy/livy.env.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by log() in common.sh
DEV_COMPONENT=livy
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$HERE/../common.sh"

LIVY_PORT="${LIVY_PORT:-8998}"
LIVY_RSC_PORT_RANGE="${LIVY_RSC_PORT_RANGE:-10000~10010}"
LIVY_HEAP="${LIVY_HEAP:-384m}"
LIVY_DRIVER_MEMORY="${LIVY_DRIVER_MEMORY:-512m}"
LIVY_MAX_CREATION="${LIVY_MAX_CREATION:-2}"
LIVY_CSRF="${LIVY_CSRF:-true}"
LIVY_IMPERSONATION="${LIVY_IMPERSONATION:-true}"
LIVY_START_TIMEOUT="${LIVY_START_TIMEOUT:-180}"
LIVY_HADOOP_CONF_DIR="${LIVY_HADOOP_CONF_DIR:-$DEV_CACHE/hdfs/conf}"
PYSPARK_SPEC="${PYSPARK_SPEC:-pyspark==3.5.*}"
LIVY_VERSION="$(sed -n 's:.*<livy.version>\(.*\)</livy.version>.*:\1:p' "$HERE/pom.xml")"

LIVY_BASE="$DEV_CACHE/livy"
VENV="$LIVY_BASE/venv"
LIVY_HOME_DIR="$LIVY_BASE/home"
SPARK_CONF="$LIVY_BASE/spark-conf"
WORK="$LIVY_BASE/work"
LIVY_LOG="$(log_file livy)"
LIVY_ENV="$LIVY_BASE/livy.env"

# Livy 0.7.1 runs on Java 17 without --add-opens/--add-exports (see the
# header); LIVY_JAVA_OPTS adds flags if a path not exercised here needs some.
read -r -a LIVY_EXTRA_JAVA_OPTS <<<"${LIVY_JAVA_OPTS:-}"

spark_home() { "$VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))'; }

# 1. Spark: pyspark from PyPI in a venv; its package dir is SPARK_HOME
#    (it carries bin/spark-submit and jars/).
install_spark() {
  local stamp
  stamp="$(printf '%s' "$PYSPARK_SPEC" | sha256sum | cut -c1-16)"
  if stamp_ok "$VENV" "$stamp" && [ -x "$(spark_home 2>/dev/null)/bin/spark-submit" ]; then
    log "install: Spark up to date ($(spark_home))"
    return 0
  fi
  need_cmd python3
  local t0=$SECONDS
  log "install: creating venv $VENV with $PYSPARK_SPEC (first run downloads ~320 MB from PyPI)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  local piplog="$DEV_LOGS/livy-pip.log"
  if ! "$VENV/bin/pip" install --progress-bar off "$PYSPARK_SPEC" >"$piplog" 2>&1; then
    tail_log "$piplog" 30
    die "install: pip install $PYSPARK_SPEC failed (log: $piplog)"
  fi
  stamp_write "$VENV" "$stamp"
  log "install: Spark $("$VENV/bin/python" -c 'import pyspark; print(pyspark.__version__)') in $((SECONDS - t0))s at $(spark_home)"
}

# 2. Livy home from Maven Central: jars/ and rsc-jars/ (see pom.xml).
install_livy_home() {
  local stamp
  stamp="$(hash_of "$HERE/pom.xml")"
  if stamp_ok "$LIVY_HOME_DIR" "$stamp"; then
    log "install: Livy home up to date ($LIVY_HOME_DIR)"
    return 0
  fi
  need_cmd mvn
  local t0=$SECONDS mvnlog="$DEV_LOGS/livy-install.log"
  log "install: resolving Livy $LIVY_VERSION from Maven Central into $LIVY_HOME_DIR (first run downloads ~80 MB)"
  rm -rf "$LIVY_HOME_DIR.new"
  if ! mvn_cmd -f "$HERE/pom.xml" -Dlivy.home="$LIVY_HOME_DIR.new" \
      dependency:copy-dependencies@server-jars dependency:copy@rsc-jars \
      >"$mvnlog" 2>&1; then
    tail_log "$mvnlog" 25
    die "install: Maven failed (log: $mvnlog)"
  fi
  [ -f "$LIVY_HOME_DIR.new/jars/livy-server-$LIVY_VERSION.jar" ] \
    || die "install: livy-server-$LIVY_VERSION.jar missing from $LIVY_HOME_DIR.new/jars (log: $mvnlog)"
  rm -rf "$LIVY_HOME_DIR"
  mv "$LIVY_HOME_DIR.new" "$LIVY_HOME_DIR"
  stamp_write "$LIVY_HOME_DIR" "$stamp"
  log "install: Livy home ready in $((SECONDS - t0))s: jars $(ls "$LIVY_HOME_DIR/jars" | wc -l), rsc-jars $(ls "$LIVY_HOME_DIR/rsc-jars" | wc -l), $(du_mb "$LIVY_HOME_DIR") MB"
}

install_all() {
  install_spark
  install_livy_home
}

write_conf() {
  local conf="$LIVY_HOME_DIR/conf"
  mkdir -p "$conf" "$SPARK_CONF" "$WORK" "$LIVY_BASE/spark-local"
  cat >"$conf/livy.conf" <<EOF
# Written by deploy/dev/livy/livy.sh start (dev stack; regenerated at each start).
livy.server.host = $DEV_HOST
livy.server.port = $LIVY_PORT
livy.spark.master = local[1]
livy.spark.deploy-mode = client
# pip's pyspark is Scala 2.12; Livy 0.7.1's regex ("Scala version (.*), Java")
# does not match its version line, so say it here (it picks repl_<v>-jars).
livy.spark.scala-version = 2.12
livy.impersonation.enabled = $LIVY_IMPERSONATION
livy.server.csrf-protection.enabled = $LIVY_CSRF
livy.server.session.max-creation = $LIVY_MAX_CREATION
livy.server.recovery.mode = off
livy.repl.enable-hive-context = false
livy.rsc.launcher.address = $DEV_HOST
livy.rsc.rpc.server.address = $DEV_HOST
livy.rsc.launcher.port.range = $LIVY_RSC_PORT_RANGE
${LIVY_CONF_EXTRA:+# From LIVY_CONF_EXTRA:
$LIVY_CONF_EXTRA}
EOF
  cat >"$conf/log4j.properties" <<'EOF'
log4j.rootCategory=INFO, console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.out
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
log4j.logger.org.eclipse.jetty=WARN
EOF
  # Spark defaults for every driver Livy launches: small heap, no web UI,
  # everything on loopback.
  cat >"$SPARK_CONF/spark-defaults.conf" <<EOF
spark.driver.memory              $LIVY_DRIVER_MEMORY
spark.ui.enabled                 false
spark.driver.host                $DEV_HOST
spark.driver.bindAddress         $DEV_HOST
spark.sql.shuffle.partitions     2
spark.local.dir                  $LIVY_BASE/spark-local
spark.driver.extraJavaOptions    -XX:+UseSerialGC -XX:TieredStopAtLevel=1
spark.pyspark.python             $VENV/bin/python
EOF
  cat >"$SPARK_CONF/log4j2.properties" <<'EOF'
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.livy.name = org.apache.livy
logger.livy.level = info
EOF
}

write_env() {
  cat >"$LIVY_ENV" <<EOF
# Written by deploy/dev/livy/livy.sh start; endpoints of the running dev Livy.
LIVY_URL=http://$DEV_HOST:$LIVY_PORT
LIVY_HOME=$LIVY_HOME_DIR
SPARK_HOME=$(spark_home)
HADOOP_CONF_DIR=$LIVY_HADOOP_CONF_DIR
LIVY_OS_USER=$(id -un)
LIVY_VERSION=$LIVY_VERSION
# Batches only: Livy $LIVY_VERSION has no REPL jars here, POST /sessions is refused.
LIVY_INTERACTIVE=0
EOF
}

start_livy() {
  install_all
  if pid_alive livy; then
    log "start: already running (pid $(read_pid livy)) on http://$DEV_HOST:$LIVY_PORT"
    return 0
  fi
  [ -f "$LIVY_HADOOP_CONF_DIR/core-site.xml" ] \
    || die "start: no Hadoop client config at $LIVY_HADOOP_CONF_DIR (start HDFS first: deploy/dev/hdfs/hdfs.sh start)"
  require_port_free livy "$LIVY_PORT"
  write_conf
  rotate_log "$LIVY_LOG"
  local sh t0=$SECONDS
  sh="$(spark_home)"
  log "start: Livy on http://$DEV_HOST:$LIVY_PORT, SPARK_HOME=$sh, HADOOP_CONF_DIR=$LIVY_HADOOP_CONF_DIR; log: $LIVY_LOG"
  # Livy's OS user is the real user that impersonates; make sure no
  # HADOOP_USER_NAME/HADOOP_PROXY_USER from the caller's shell changes who that is.
  (
    cd "$WORK"
    unset HADOOP_USER_NAME HADOOP_PROXY_USER PYSPARK_DRIVER_PYTHON SPARK_CONF_DIR
    # Livy's Jetty request log goes to $LIVY_LOG_DIR (default $LIVY_HOME/logs)
    # and Livy refuses to start when that dir is missing.
    mkdir -p "$DEV_LOGS/livy-requests"
    export LIVY_LOG_DIR="$DEV_LOGS/livy-requests"
    export LIVY_HOME="$LIVY_HOME_DIR" LIVY_CONF_DIR="$LIVY_HOME_DIR/conf" \
      SPARK_HOME="$sh" SPARK_CONF_DIR="$SPARK_CONF" HADOOP_CONF_DIR="$LIVY_HADOOP_CONF_DIR" \
      PYSPARK_PYTHON="$VENV/bin/python" SPARK_LOCAL_IP="$DEV_HOST"
    start_bg livy "$LIVY_LOG" "$(java_bin)" -Xmx"$LIVY_HEAP" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
      ${LIVY_EXTRA_JAVA_OPTS[@]+"${LIVY_EXTRA_JAVA_OPTS[@]}"} \
      -cp "$LIVY_HOME_DIR/jars/*:$LIVY_HOME_DIR/conf:$SPARK_CONF:$LIVY_HADOOP_CONF_DIR" \
      org.apache.livy.server.LivyServer
  )
  if ! wait_for_url livy "http://$DEV_HOST:$LIVY_PORT/sessions" "$LIVY_START_TIMEOUT" "$LIVY_LOG" livy; then
    stop_bg livy 10
    die "start: Livy did not come up (log: $LIVY_LOG)"
  fi
  write_env
  log "start: ready in $((SECONDS - t0))s at http://$DEV_HOST:$LIVY_PORT (endpoints in $LIVY_ENV)"
}

status_livy() {
  if pid_alive livy; then
    echo "livy: running, pid $(read_pid livy), http://$DEV_HOST:$LIVY_PORT, log $LIVY_LOG"
  else
    echo "livy: not running"
    return 1
  fi
}

case "${1:-}" in
  install) install_all ;;
  start) start_livy ;;
  stop) stop_bg livy 30 ;;
  status) status_livy ;;
  *)
    echo "usage: $0 install|start|stop|status" >&2
    exit 2
    ;;
esac
