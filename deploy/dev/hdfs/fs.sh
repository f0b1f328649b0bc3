#!/usr/bin/env bash
# The real `hadoop fs` CLI (org.apache.hadoop.fs.FsShell from the dev HDFS
# jars) against the dev NameNode on 127.0.0.1. Examples:
#
#   deploy/dev/hdfs/fs.sh -ls /user                     # as the superuser (hdfs)
#   HADOOP_USER_NAME=alice deploy/dev/hdfs/fs.sh -ls /user/alice
#   deploy/dev/hdfs/fs.sh -put local.py /user/alice/job.py
#
# Acts as HADOOP_USER_NAME (default: HDFS_SUPERUSER, i.e. hdfs); set
# HADOOP_PROXY_USER too to act as that user through impersonation.
# HDFS_PORT as for hdfs.sh. Needs `hdfs.sh install` (done by start).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by log() in common.sh
DEV_COMPONENT=fs
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$HERE/../common.sh"

HDFS_PORT="${HDFS_PORT:-9820}"
HDFS_HOME="$DEV_CACHE/hdfs"
[ -f "$HDFS_HOME/lib/.installed" ] || die "HDFS jars not installed: run deploy/dev/hdfs/hdfs.sh install"
[ -f "$HDFS_HOME/conf/log4j-cli.properties" ] || die "no client config yet: run deploy/dev/hdfs/hdfs.sh start"

export HADOOP_USER_NAME="${HADOOP_USER_NAME:-${HDFS_SUPERUSER:-hdfs}}"
# Classpath: the client config written by the running cluster (dfs.replication=1
# and friends), then the jars. Small heap, C1 only: a CLI call lives seconds.
exec "$(java_bin)" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
  -Djava.net.preferIPv4Stack=true \
  -Dlog4j.configuration="file:$HDFS_HOME/conf/log4j-cli.properties" \
  -cp "$HDFS_HOME/conf:$HDFS_HOME/lib/*" \
  org.apache.hadoop.fs.FsShell -fs "hdfs://$DEV_HOST:$HDFS_PORT" "$@"
