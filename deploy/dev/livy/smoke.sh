#!/usr/bin/env bash
# End-to-end check of the dev HDFS + Livy, straight against Livy's REST API
# on 127.0.0.1 (no gateway), as proxy user USER (default alice):
#   1. a batch (a small pyspark file put on HDFS) reaches `success`, its log
#      shows spark.range(1000).count() == 1000 and Spark's user == USER,
#   2. the file the batch wrote under hdfs:///user/USER is owned by USER
#      (checked with the real hadoop fs CLI, not through Livy): impersonation
#      really happened,
#   3. an interactive pyspark session reaches idle and a statement prints
#      spark.range(1000).count() and Spark's user: "1000 USER".
# Needs both started (hdfs.sh start; hdfs.sh mkhome USER; livy.sh start).
# Prints timings; exits non-zero (with the tail of the Livy log) on the first
# failure. Deletes the batch and the session it created.
#
#   deploy/dev/livy/smoke.sh [USER]     (LIVY_PORT, HDFS_PORT as for the start scripts)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by log() in common.sh
DEV_COMPONENT=smoke
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$HERE/../common.sh"
need_cmd curl python3

U="${1:-alice}"
LIVY="http://$DEV_HOST:${LIVY_PORT:-8998}"
FS="$HERE/../hdfs/fs.sh"
LIVY_LOG="$(log_file livy)"
HDR=(-H 'Content-Type: application/json' -H 'X-Requested-By: livygate-smoke')
BID=""

fail() {
  log "FAIL: $*"
  tail_log "$LIVY_LOG" 40
  exit 1
}
cleanup() {
  if [ -n "$BID" ]; then curl -s -X DELETE "${HDR[@]}" "$LIVY/batches/$BID" >/dev/null || true; fi
  if [ -n "${SID:-}" ]; then curl -s -X DELETE "${HDR[@]}" "$LIVY/sessions/$SID" >/dev/null || true; fi
}
trap cleanup EXIT

json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {"d": d}))' "$1"; }
post() { curl -fsS "${HDR[@]}" -X POST -d "$2" "$LIVY$1"; }

# wait_state URL WANT TIMEOUT: poll .state until WANT (or a dead end).
wait_state() {
  local url="$1" want="$2" timeout="$3" start=$SECONDS st
  while :; do
    st="$(curl -fsS "$url" | json 'd["state"]')"
    [ "$st" = "$want" ] && return 0
    case "$st" in dead | error | killed | success | shutting_down)
      log "state of $url is '$st' (wanted $want)"
      curl -s "$url/log?from=0&size=60" | json '"\n".join(d.get("log", []))' >&2 || true
      return 1 ;;
    esac
    ((SECONDS - start < timeout)) || { log "timeout: $url still '$st' after ${timeout}s"; return 1; }
    sleep 1
  done
}

curl -fsS -o /dev/null "$LIVY/batches" || fail "Livy is not answering at $LIVY"
log "Livy $(curl -fsS "$LIVY/version" | json 'd["version"]') at $LIVY; HDFS home of $U:"
"$FS" -ls -d "/user/$U" || fail "/user/$U missing: deploy/dev/hdfs/hdfs.sh mkhome $U"

# 1+2. The batch.
out="/user/$U/livy-smoke-batch"
job="$(mktemp --suffix=.py)"
cat >"$job" <<'EOF'
import sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.appName("livygate-smoke-batch").getOrCreate()
n = spark.range(1000).count()
spark.createDataFrame([(n,)], ["count"]).coalesce(1).write.mode("overwrite").json(sys.argv[1])
print("SMOKE BATCH COUNT", n, "AS", spark.sparkContext.sparkUser())
spark.stop()
EOF
HADOOP_USER_NAME="$U" "$FS" -put -f "$job" "/user/$U/livy-smoke-batch.py"
rm -f "$job"
HADOOP_USER_NAME="$U" "$FS" -rm -r -f -skipTrash "$out" >/dev/null
t0=$SECONDS
resp="$(post /batches "{\"file\":\"hdfs:///user/$U/livy-smoke-batch.py\",\"args\":[\"hdfs://$out\"],\"proxyUser\":\"$U\",\"name\":\"livygate-smoke\"}")"
BID="$(echo "$resp" | json 'd["id"]')"
[ "$(echo "$resp" | json 'd["proxyUser"]')" = "$U" ] \
  || fail "Livy answered proxyUser '$(echo "$resp" | json 'd["proxyUser"]')', expected '$U' (livy.impersonation.enabled off?)"
log "batch $BID submitted as proxyUser $U"
wait_state "$LIVY/batches/$BID" success 300 || fail "batch $BID did not succeed"
log "batch $BID state: success after $((SECONDS - t0))s"
line="$(curl -fsS "$LIVY/batches/$BID/log?from=0&size=1000" | json '"\n".join(l for l in d["log"] if "SMOKE BATCH" in l)')"
log "batch log: $line"
[ "$line" = "SMOKE BATCH COUNT 1000 AS $U" ] || fail "unexpected batch output '$line'"
listing="$("$FS" -ls "$out")"
echo "$listing" >&2
owner="$(echo "$listing" | awk '/part-/ {print $3; exit}')"
[ "$owner" = "$U" ] || fail "batch output owner is '$owner', expected '$U' (impersonation did not happen)"
log "owner of the batch's file: $owner"
curl -fsS -o /dev/null -X DELETE "${HDR[@]}" "$LIVY/batches/$BID"
BID=""

# 3. An interactive pyspark session runs a statement as USER.
SID=""
t0=$SECONDS
resp="$(post /sessions "{\"kind\":\"pyspark\",\"proxyUser\":\"$U\"}")"
SID="$(echo "$resp" | json 'd["id"]')"
wait_state "$LIVY/sessions/$SID" idle 300 || fail "session $SID did not reach idle"
log "session $SID idle after $((SECONDS - t0))s"
st="$(post "/sessions/$SID/statements" '{"code":"print(spark.range(1000).count(), spark.sparkContext.sparkUser())"}' | json 'd["id"]')"
t1=$SECONDS
while :; do
  stmt="$(curl -fsS "$LIVY/sessions/$SID/statements/$st")"
  [ "$(echo "$stmt" | json 'd["state"]')" = available ] && break
  ((SECONDS - t1 < 120)) || fail "statement $st not available after 120s: $stmt"
  sleep 0.5
done
text="$(echo "$stmt" | json 'd["output"]["data"]["text/plain"]')"
[ "$text" = "1000 $U" ] || fail "statement output '$text', expected '1000 $U'"
log "statement: '$text' after $((SECONDS - t1))s"
curl -fsS -o /dev/null -X DELETE "${HDR[@]}" "$LIVY/sessions/$SID"
SID=""
log "OK: batch success, count 1000 as $U, output owned by $U; pyspark session counted 1000 as $U"
