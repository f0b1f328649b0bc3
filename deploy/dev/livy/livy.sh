#!/usr/bin/env bash
# Dev Livy: Apache Livy 0.9.0-incubating on Java 17, with Spark 3.5.6 (PyPI
# pyspark) as SPARK_HOME, in local[1] mode (or on YARN) on 127.0.0.1,
# impersonation on, its Hadoop configuration pointing at the dev HDFS
# (deploy/dev/hdfs/hdfs.sh). Interactive sessions (pyspark, spark, sql) and
# batches both work.
#
#   deploy/dev/livy/livy.sh install   venv + pyspark, Livy home (idempotent; see below)
#   deploy/dev/livy/livy.sh start     install if needed, start, wait until ready
#   deploy/dev/livy/livy.sh stop      stop Livy and every Spark driver it started
#   deploy/dev/livy/livy.sh status
#
# Where Livy comes from, first match wins:
#   1. LIVY_HOME: an unpacked Livy 0.9 distribution you give (used as it is);
#   2. a build already in the cache ($DEV_CACHE/livy/dist/<zip>): never rebuilt;
#   3. a build from the source archive LIVY_SOURCE_ARCHIVE (default: the
#      archive in ../shared/vendor/livy/ beside the repository, when it
#      exists), sha256-checked against LIVY_SOURCE_SHA256, with Maven
#      (Maven Central only; local repository $DEV_M2): about 3 min and 500 MB
#      of downloads cold, 100 s warm;
#   4. the official binary release from the Apache archive (LIVY_RELEASE_URL),
#      checked against its published SHA-512. For machines with internet;
#      untested here (this machine reaches no such host).
#
# Environment (defaults in brackets):
#   LIVY_PORT [8998]               Livy REST port on 127.0.0.1
#   LIVY_RSC_PORT_RANGE [10000~10010]  ports of Livy's RSC launcher (one per
#                                  starting session). Pitfall: the RSC's RPC sockets
#                                  listen on all interfaces whatever the settings say.
#   LIVY_HEAP [512m]               Livy server JVM max heap
#   LIVY_DRIVER_MEMORY [512m]      heap of each Spark driver
#   LIVY_MAX_CREATION [2]          livy.server.session.max-creation
#   LIVY_CSRF [true]               livy.server.csrf-protection.enabled (clients send X-Requested-By)
#   LIVY_IMPERSONATION [true]      livy.impersonation.enabled. With false, Livy silently drops
#                                  proxyUser and jobs run as Livy's OS user.
#   LIVY_SPARK_MASTER [local[1]]   livy.spark.master; "yarn" needs the dev YARN running
#                                  (deploy/dev/yarn/yarn.sh start) and LIVY_HADOOP_CONF_DIR
#                                  holding its yarn-site.xml ($DEV_CACHE/yarn/conf). Then
#                                  start also puts $SPARK_HOME/jars, zipped, on HDFS once
#                                  (hdfs:///livygate/spark-jars-<version>.zip, spark.yarn.archive)
#                                  and gives each application one small ApplicationMaster and
#                                  one executor (the LIVY_YARN_* sizes below)
#   LIVY_YARN_AM_MEMORY [256m]     spark.yarn.am.memory (+128m overhead) on YARN
#   LIVY_YARN_EXECUTOR_MEMORY [512m]  spark.executor.memory (+128m overhead), one executor, on YARN
#   LIVY_SPARK_DEFAULTS_EXTRA      extra spark-defaults.conf lines, appended verbatim
#   LIVY_CONF_EXTRA                extra livy.conf lines, appended verbatim (tests, experiments)
#   LIVY_JAVA_OPTS                 extra JVM flags for the Livy server
#   LIVY_START_TIMEOUT [180]       seconds start waits for readiness
#   LIVY_HADOOP_CONF_DIR [$DEV_CACHE/hdfs/conf]  HADOOP_CONF_DIR for Livy and Spark (written by hdfs.sh start)
#   PYSPARK_SPEC ['pyspark==3.5.6']  pip requirement for Spark (the version Livy 0.9 builds against)
#   LIVY_INSTANCE []               a second (third, ...) Livy beside the first, e.g. 2: it runs as
#                                  "livy2" (pid, log livy2.log, requests log livy2-requests/) with its
#                                  own conf, spark-conf, work and spark-local dirs and env file under
#                                  $DEV_CACHE/livy/livy2/, sharing the venv and the Livy home. Give it
#                                  its own LIVY_PORT and LIVY_RSC_PORT_RANGE (the HA stack does).
#   DEV_CACHE [<repo>/.cache/dev]
#
# Files: $DEV_CACHE/livy/{venv,home,dist,src,spark-conf,work}; log
# $DEV_CACHE/logs/livy.log (Jetty request log in $DEV_CACHE/logs/livy-requests/),
# endpoints in $DEV_CACHE/livy/livy.env.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by log() in common.sh
DEV_COMPONENT=livy
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$HERE/../common.sh"

LIVY_VERSION=0.9.0-incubating
LIVY_ZIP_NAME="apache-livy-${LIVY_VERSION}_2.12-bin"
LIVY_PORT="${LIVY_PORT:-8998}"
LIVY_RSC_PORT_RANGE="${LIVY_RSC_PORT_RANGE:-10000~10010}"
LIVY_HEAP="${LIVY_HEAP:-512m}"
LIVY_DRIVER_MEMORY="${LIVY_DRIVER_MEMORY:-512m}"
LIVY_MAX_CREATION="${LIVY_MAX_CREATION:-2}"
LIVY_CSRF="${LIVY_CSRF:-true}"
LIVY_IMPERSONATION="${LIVY_IMPERSONATION:-true}"
LIVY_SPARK_MASTER="${LIVY_SPARK_MASTER:-local[1]}"
LIVY_YARN_AM_MEMORY="${LIVY_YARN_AM_MEMORY:-256m}"
LIVY_YARN_EXECUTOR_MEMORY="${LIVY_YARN_EXECUTOR_MEMORY:-512m}"
LIVY_START_TIMEOUT="${LIVY_START_TIMEOUT:-180}"
LIVY_HADOOP_CONF_DIR="${LIVY_HADOOP_CONF_DIR:-$DEV_CACHE/hdfs/conf}"
PYSPARK_SPEC="${PYSPARK_SPEC:-pyspark==3.5.6}"
LIVY_SOURCE_ARCHIVE="${LIVY_SOURCE_ARCHIVE:-$REPO_ROOT/../shared/vendor/livy/apache-livy-${LIVY_VERSION}-src.tar.gz}"
# The vendored archive's checksum (its README); empty skips the check.
LIVY_SOURCE_SHA256="${LIVY_SOURCE_SHA256-4efe614abe0a4504855136fe61fe046758c8654097e7f4267382ecfa398bbdc1}"
LIVY_RELEASE_URL="${LIVY_RELEASE_URL:-https://archive.apache.org/dist/incubator/livy/$LIVY_VERSION/$LIVY_ZIP_NAME.zip}"

LIVY_BASE="$DEV_CACHE/livy"
LIVY_NAME="livy${LIVY_INSTANCE:-}"
# The first instance keeps its files where they always were.
INST_DIR="$LIVY_BASE${LIVY_INSTANCE:+/$LIVY_NAME}"
VENV="$LIVY_BASE/venv"
DIST="$LIVY_BASE/dist"
LIVY_ZIP="$DIST/$LIVY_ZIP_NAME.zip"
# A LIVY_HOME from the user is used as it is; otherwise the cache's unpacked build.
USER_LIVY_HOME="${LIVY_HOME:-}"
LIVY_HOME_DIR="${USER_LIVY_HOME:-$LIVY_BASE/home}"
SPARK_CONF="$INST_DIR/spark-conf"
WORK="$INST_DIR/work"
LIVY_LOG="$(log_file "$LIVY_NAME")"
LIVY_ENV="$INST_DIR/livy.env"

spark_home() { "$VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))'; }

# 1. Spark: pyspark from PyPI in a venv; its package dir is SPARK_HOME
#    (it carries bin/spark-submit, jars/ and python/lib/{pyspark,py4j}.zip).
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

# build_from_source ARCHIVE: Livy's own assembly zip, built with Maven into $LIVY_ZIP.
build_from_source() {
  local archive="$1" t0=$SECONDS mvnlog="$DEV_LOGS/livy-build.log"
  if [ -n "$LIVY_SOURCE_SHA256" ]; then
    echo "$LIVY_SOURCE_SHA256  $archive" | sha256sum -c --status ||
      die "install: $archive does not match sha256 $LIVY_SOURCE_SHA256 (set LIVY_SOURCE_SHA256= to skip the check for your own archive)"
  fi
  need_cmd mvn tar
  log "install: building Livy $LIVY_VERSION from $archive (cold: ~3 min and ~500 MB of Maven downloads into $DEV_M2; log: $mvnlog)"
  rm -rf "$LIVY_BASE/src"
  mkdir -p "$LIVY_BASE/src" "$DIST"
  tar -xzf "$archive" -C "$LIVY_BASE/src"
  local src
  src="$(find "$LIVY_BASE/src" -mindepth 1 -maxdepth 1 -type d | head -1)"
  [ -f "$src/pom.xml" ] || die "install: no pom.xml at the top of $archive"
  # -Pscala-2.12 -Pspark3: Spark 3.5.6 / Hadoop 3.3.4 client. remoteresources
  # wants a SNAPSHOT bundle only Apache's snapshot repository has. -pl
  # assembly -am skips the modules that download a Spark tarball.
  if ! (cd "$src" && mvn_cmd -Pscala-2.12 -Pspark3 -DskipTests -Dmaven.javadoc.skip=true       -Dremoteresources.skip=true -pl assembly -am package) >"$mvnlog" 2>&1; then
    tail_log "$mvnlog" 30
    die "install: the Livy build failed (log: $mvnlog)"
  fi
  cp "$src/assembly/target/$LIVY_ZIP_NAME.zip" "$LIVY_ZIP.tmp"
  mv "$LIVY_ZIP.tmp" "$LIVY_ZIP"
  rm -rf "$LIVY_BASE/src"
  log "install: built $LIVY_ZIP in $((SECONDS - t0))s"
}

# download_release: the official binary zip, checked against its SHA-512.
download_release() {
  need_cmd curl sha512sum
  mkdir -p "$DIST"
  log "install: no source archive at $LIVY_SOURCE_ARCHIVE; downloading $LIVY_RELEASE_URL"
  curl -fsSL --retry 2 -o "$LIVY_ZIP.tmp" "$LIVY_RELEASE_URL" ||
    die "install: cannot download $LIVY_RELEASE_URL (no internet? give LIVY_HOME or LIVY_SOURCE_ARCHIVE)"
  local want
  want="$(curl -fsSL --retry 2 "$LIVY_RELEASE_URL.sha512" | tr -d ' \n' | grep -oiE '[0-9a-f]{128}' | head -1)" ||
    die "install: cannot download $LIVY_RELEASE_URL.sha512"
  [ -n "$want" ] || die "install: $LIVY_RELEASE_URL.sha512 holds no SHA-512"
  echo "$want  $LIVY_ZIP.tmp" | sha512sum -c --status ||
    { rm -f "$LIVY_ZIP.tmp"; die "install: $LIVY_RELEASE_URL does not match its published SHA-512"; }
  mv "$LIVY_ZIP.tmp" "$LIVY_ZIP"
}

# 2. The Livy home: the user's, else the cache's unpacked zip (built or
#    downloaded once; a warm run never rebuilds).
install_livy_home() {
  if [ -n "$USER_LIVY_HOME" ]; then
    { [ -x "$USER_LIVY_HOME/bin/livy-server" ] && [ -d "$USER_LIVY_HOME/jars" ]; } ||
      die "install: LIVY_HOME=$USER_LIVY_HOME is not an unpacked Livy distribution (no bin/livy-server, jars/)"
    log "install: using LIVY_HOME=$USER_LIVY_HOME"
    return 0
  fi
  if [ ! -f "$LIVY_ZIP" ]; then
    if [ -f "$LIVY_SOURCE_ARCHIVE" ]; then
      build_from_source "$LIVY_SOURCE_ARCHIVE"
    else
      download_release
    fi
  fi
  local stamp
  stamp="$(hash_of "$LIVY_ZIP")"
  if stamp_ok "$LIVY_HOME_DIR" "$stamp"; then
    log "install: Livy home up to date ($LIVY_HOME_DIR)"
    return 0
  fi
  command -v unzip >/dev/null 2>&1 || apt_install unzip
  rm -rf "$LIVY_HOME_DIR" "$LIVY_BASE/unzip"
  mkdir -p "$LIVY_BASE/unzip"
  unzip -q "$LIVY_ZIP" -d "$LIVY_BASE/unzip"
  mv "$LIVY_BASE/unzip/$LIVY_ZIP_NAME" "$LIVY_HOME_DIR"
  rm -rf "$LIVY_BASE/unzip"
  stamp_write "$LIVY_HOME_DIR" "$stamp"
  log "install: Livy home ready at $LIVY_HOME_DIR ($(du_mb "$LIVY_HOME_DIR") MB)"
}

install_all() {
  install_spark
  install_livy_home
}

on_yarn() { [[ "$LIVY_SPARK_MASTER" == yarn* ]]; }

# spark_yarn_archive SPARK_HOME: makes sure $SPARK_HOME/jars is on HDFS as
# one zip (jars at its root, stored uncompressed), readable by everyone so
# that the NodeManager localizes it once as a public resource, and sets
# SPARK_YARN_ARCHIVE to its URI (for spark.yarn.archive). Without it Spark
# uploads ~300 MB of jars to the user's staging dir for every application.
# Idempotent: the zip is built once per Spark version in the cache and
# uploaded only when HDFS lacks it (or holds another size).
spark_yarn_archive() {
  local sh="$1" ver zip remote fs="$HERE/../hdfs/fs.sh" size have
  ver="$("$VENV/bin/python" -c 'import pyspark; print(pyspark.__version__)')"
  zip="$LIVY_BASE/spark-jars-$ver.zip"
  remote="/livygate/spark-jars-$ver.zip"
  if [ ! -f "$zip" ]; then
    log "yarn: zipping $sh/jars into $zip"
    "$VENV/bin/python" - "$sh/jars" "$zip.tmp" <<'PY'
import os, sys, zipfile
src, out = sys.argv[1:]
with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
    for name in sorted(os.listdir(src)):
        if name.endswith(".jar"):
            z.write(os.path.join(src, name), name)
PY
    mv "$zip.tmp" "$zip" || die "yarn: cannot write $zip"
  fi
  size="$(stat -c %s "$zip")"
  have="$(HADOOP_USER_NAME="${HDFS_SUPERUSER:-hdfs}" "$fs" -stat %b "$remote" 2>/dev/null || true)"
  if [ "$have" != "$size" ]; then
    local t0=$SECONDS
    log "yarn: uploading $zip ($((size / 1048576)) MB) to hdfs://$remote"
    local su="${HDFS_SUPERUSER:-hdfs}"
    if ! { HADOOP_USER_NAME="$su" "$fs" -mkdir -p /livygate &&
      HADOOP_USER_NAME="$su" "$fs" -put -f "$zip" "$remote.tmp" &&
      HADOOP_USER_NAME="$su" "$fs" -mv "$remote.tmp" "$remote" &&
      HADOOP_USER_NAME="$su" "$fs" -chmod -R a+rX /livygate; } >&2; then
      die "yarn: uploading $zip to hdfs://$remote failed"
    fi
    log "yarn: uploaded in $((SECONDS - t0))s"
  else
    log "yarn: hdfs://$remote already there ($((size / 1048576)) MB)"
  fi
  SPARK_YARN_ARCHIVE="hdfs://$remote"
}

# yarn_spark_defaults: spark-defaults.conf lines for YARN: the jars archive
# above (spark_yarn_archive first), and the smallest containers that run a
# session.
yarn_spark_defaults() {
  cat <<EOF
# Spark on YARN (livy.spark.master = $LIVY_SPARK_MASTER), written by livy.sh:
spark.yarn.archive               $SPARK_YARN_ARCHIVE
spark.yarn.am.memory             $LIVY_YARN_AM_MEMORY
spark.yarn.am.memoryOverhead     128m
spark.yarn.am.extraJavaOptions   -XX:+UseSerialGC -XX:TieredStopAtLevel=1
spark.yarn.maxAppAttempts        1
spark.executor.instances         1
spark.executor.cores             1
spark.executor.memory            $LIVY_YARN_EXECUTOR_MEMORY
spark.executor.memoryOverhead    128m
spark.executor.extraJavaOptions  -XX:+UseSerialGC -XX:TieredStopAtLevel=1
spark.dynamicAllocation.enabled  false
EOF
}

write_conf() {
  local conf="$INST_DIR/conf" sh="$1" yarn_defaults=""
  if on_yarn; then
    spark_yarn_archive "$sh"
    yarn_defaults="$(yarn_spark_defaults)"
  fi
  mkdir -p "$conf" "$SPARK_CONF" "$WORK" "$INST_DIR/spark-local"
  cat >"$conf/livy.conf" <<EOF
# Written by deploy/dev/livy/livy.sh start (dev stack; regenerated at each start).
livy.server.host = $DEV_HOST
livy.server.port = $LIVY_PORT
livy.spark.master = $LIVY_SPARK_MASTER
livy.spark.deploy-mode = client
livy.spark.scala-version = 2.12
livy.impersonation.enabled = $LIVY_IMPERSONATION
livy.server.csrf-protection.enabled = $LIVY_CSRF
livy.server.session.max-creation = $LIVY_MAX_CREATION
livy.server.recovery.mode = off
livy.repl.enable-hive-context = false
livy.rsc.launcher.address = $DEV_HOST
livy.rsc.rpc.server.address = $DEV_HOST
livy.rsc.launcher.port.range = $LIVY_RSC_PORT_RANGE
# pip's pyspark: the REPL's python needs these two zips (also PYSPARK_ARCHIVES_PATH).
livy.rsc.pyspark.archives = $(pyspark_archives "$sh")
# On YARN: how often Livy asks the ResourceManager about its applications,
# and how long a starting driver may take to submit its application before
# Livy gives the session up (default 120 s; a loaded 2-core machine needs more).
livy.server.yarn.poll-interval = 1s
livy.server.yarn.app-lookup-timeout = 600s
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
spark.local.dir                  $INST_DIR/spark-local
spark.driver.extraJavaOptions    -XX:+UseSerialGC -XX:TieredStopAtLevel=1
spark.pyspark.python             $VENV/bin/python
${yarn_defaults}
${LIVY_SPARK_DEFAULTS_EXTRA:-}
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

# pyspark_archives SPARK_HOME: pyspark.zip and py4j's zip, comma-separated.
pyspark_archives() {
  local zips=("$1"/python/lib/pyspark.zip "$1"/python/lib/py4j-*-src.zip)
  local IFS=,
  echo "${zips[*]}"
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
LIVY_SPARK_MASTER=$LIVY_SPARK_MASTER
EOF
}

start_livy() {
  install_all
  if pid_alive "$LIVY_NAME"; then
    log "start: already running (pid $(read_pid "$LIVY_NAME")) on http://$DEV_HOST:$LIVY_PORT"
    return 0
  fi
  [ -f "$LIVY_HADOOP_CONF_DIR/core-site.xml" ] \
    || die "start: no Hadoop client config at $LIVY_HADOOP_CONF_DIR (start HDFS first: deploy/dev/hdfs/hdfs.sh start)"
  if on_yarn; then
    [ -f "$LIVY_HADOOP_CONF_DIR/yarn-site.xml" ] ||
      die "start: master $LIVY_SPARK_MASTER but no yarn-site.xml in $LIVY_HADOOP_CONF_DIR (start YARN: deploy/dev/yarn/yarn.sh start, and set LIVY_HADOOP_CONF_DIR=\$DEV_CACHE/yarn/conf)"
  fi
  require_port_free "$LIVY_NAME" "$LIVY_PORT"
  local sh archives t0=$SECONDS
  sh="$(spark_home)"
  archives="$(pyspark_archives "$sh")"
  write_conf "$sh"
  rotate_log "$LIVY_LOG"
  log "start: Livy $LIVY_VERSION on http://$DEV_HOST:$LIVY_PORT, master $LIVY_SPARK_MASTER, SPARK_HOME=$sh, HADOOP_CONF_DIR=$LIVY_HADOOP_CONF_DIR; log: $LIVY_LOG"
  # Livy's OS user is the real user that impersonates; make sure no
  # HADOOP_USER_NAME/HADOOP_PROXY_USER from the caller's shell changes who that is.
  (
    cd "$WORK"
    unset HADOOP_USER_NAME HADOOP_PROXY_USER PYSPARK_DRIVER_PYTHON SPARK_CONF_DIR
    # Livy's Jetty request log goes to $LIVY_LOG_DIR and Livy refuses to
    # start when that dir is missing.
    mkdir -p "$DEV_LOGS/$LIVY_NAME-requests"
    export LIVY_LOG_DIR="$DEV_LOGS/$LIVY_NAME-requests" LIVY_PID_DIR="$DEV_RUN" LIVY_IDENT_STRING="dev${LIVY_INSTANCE:-}"
    export LIVY_CONF_DIR="$INST_DIR/conf" \
      SPARK_HOME="$sh" SPARK_CONF_DIR="$SPARK_CONF" HADOOP_CONF_DIR="$LIVY_HADOOP_CONF_DIR" \
      PYSPARK_PYTHON="$VENV/bin/python" SPARK_LOCAL_IP="$DEV_HOST" \
      PYSPARK_ARCHIVES_PATH="$archives" \
      LIVY_SERVER_JAVA_OPTS="-Xmx$LIVY_HEAP -XX:+UseSerialGC -XX:TieredStopAtLevel=1 ${LIVY_JAVA_OPTS:-}"
    # No argument: livy-server runs in the foreground (exec java), so the
    # process group start_bg records is Livy and every driver it starts.
    start_bg "$LIVY_NAME" "$LIVY_LOG" bash "$LIVY_HOME_DIR/bin/livy-server"
  )
  if ! wait_for_url "$LIVY_NAME" "http://$DEV_HOST:$LIVY_PORT/version" "$LIVY_START_TIMEOUT" "$LIVY_LOG" "$LIVY_NAME"; then
    stop_bg "$LIVY_NAME" 10
    die "start: Livy did not come up (log: $LIVY_LOG)"
  fi
  write_env
  log "start: ready in $((SECONDS - t0))s at http://$DEV_HOST:$LIVY_PORT (endpoints in $LIVY_ENV)"
}

status_livy() {
  if pid_alive "$LIVY_NAME"; then
    echo "$LIVY_NAME: running, pid $(read_pid "$LIVY_NAME"), http://$DEV_HOST:$LIVY_PORT, log $LIVY_LOG"
  else
    echo "$LIVY_NAME: not running"
    return 1
  fi
}

case "${1:-}" in
  install) install_all ;;
  start) start_livy ;;
  stop) stop_bg "$LIVY_NAME" 30 ;;
  status) status_livy ;;
  *)
    echo "usage: $0 install|start|stop|status" >&2
    exit 2
    ;;
esac
