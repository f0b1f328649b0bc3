#!/usr/bin/env bash
# `make bench`: measures the gateway against baselines run in the same go,
# and prints ratios.
#  1. Proxy overhead: wrk (a second process) drives GET /sessions/{id} with a
#     cached Basic login through `livygate serve`, and the same request
#     through a bare httputil.ReverseProxy in a process of its own; both reach
#     the same fast fake Livy process (cmd/benchtarget). Req/s and p50/p99 both ways, and the ratios.
#  2. Login cost: a cached Basic check vs a cold LDAP bind against a real
#     slapd (Go benchmarks in gateway/auth).
#  3. User sync: 10,000 JupyterHub users' homes on a real NameNode, first run
#     and no-change rerun, vs the old per-user `hadoop fs` script (sampled and
#     scaled) and one batched `hadoop fs` call (cmd/livygate/sync_bench_test.go).
#  4. Admin UI: each page's render time with 10,000 users and 100,000 audit
#     events in the store (deploy/dev/bench-ui.sh; target < 200 ms).
#  5. First cell: POST /sessions to the first statement's result on the real
#     stack (Livy 0.9, Spark), through livygate and straight to Livy,
#     alternating rounds (deploy/dev/firstcell.py; BENCH_FIRSTCELL_ROUNDS).
#  6. Session governance: a create with every limit and timeout checked vs a
#     plain create (gateway/proxy), and one reaper pass over 10,000 sessions
#     vs the one list call it makes (gateway/reaper); fake Livy and Hub.
#  7. Store: audit events written per second and the lockout's round trips,
#     SQLite vs a real PostgreSQL on loopback (gateway/store, same run).
#  8. HA: a poll and a create through the whole gateway (gateway.New, cached
#     LDAP login, fake Livy in process) with the PostgreSQL store vs SQLite
#     vs straight to the fake Livy, same run; PostgreSQL's statements counted
#     with pg_stat_statements during the polls (must be 0) (gateway/).
#  9. Load beside nginx (loadmix): a Sparkmagic-like mix (deploy/dev/loadmix.lua)
#     through livygate, the bare proxy and Debian's nginx as a plain reverse
#     proxy, all in front of the same fake Livy, at 1, 16, 256 and 1,000
#     connections: req/s, p50/p99/p99.9, errors, each proxy's peak RSS.
# 10. Soak (soak, not in the default run: 5 minutes): the same mix through
#     livygate alone at 1,000 connections, each session it creates deleted
#     again (loadmix.lua's delete mode), its RSS sampled every 10 s.
# 11. Warm sessions: POST /sessions to the first statement's result through
#     livygate, cold (warm: off) vs warm (a second gateway with warm: on and
#     the user's notebook server running), alternating rounds on the real
#     stack (deploy/dev/warmcell.py; BENCH_WARM_ROUNDS, default 5).
# Expects bin/livygate and bin/benchtarget (the Makefile builds them).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
work="$root/.cache/bench"
rm -rf "$work"
mkdir -p "$work"
LDAP_PORT=${BENCH_LDAP_PORT:-39390}
GW_PORT=${BENCH_GATEWAY_PORT:-39391}
DURATION=${BENCH_DURATION:-4s}
CONNS=${BENCH_CONNECTIONS:-16}
ROUNDS=${BENCH_ROUNDS:-8}
# BENCH_PARTS picks what runs (all but soak by default): load loadmix login
# tokens sync ui governance store ha warm firstcell soak.
PARTS=" ${BENCH_PARTS:-load loadmix login tokens sync ui governance store ha warm firstcell} "
part() { [[ $PARTS == *" $1 "* ]]; }
# wrk gets one CPU; each proxy and the fake Livy share the other, so req/s
# measures what a request costs there, not how the scheduler mixed things.
CLIENT_CPU=${BENCH_CLIENT_CPU:-0}
SERVER_CPU=${BENCH_SERVER_CPU:-1}

# 1,000 client connections are 1,000 descriptors in wrk and 2,000 in a proxy.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if part loadmix && ! command -v nginx >/dev/null; then
	# shellcheck disable=SC1091
	DEV_COMPONENT=bench . deploy/dev/common.sh
	apt_install nginx
fi

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	bash deploy/dev/ldap/demo.sh stop "$work/ldap" >/dev/null 2>&1 || true
}
trap cleanup EXIT

wait_for() { # URL LOG
	for _ in $(seq 1 100); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench: $1 did not come up; see $2:" >&2
	tail -20 "$2" >&2
	exit 1
}

bash deploy/dev/ldap/demo.sh start "$work/ldap" "$LDAP_PORT" >"$work/ldap.log"
# shellcheck disable=SC1091
source "$work/ldap/passwords.env"
(umask 077 && printf '%s' "$SERVICE_PASSWORD" >"$work/ldap/service.pw")

# Three processes on each side of the comparison: wrk → proxy → fake Livy.
start_target() { # NAME ARGS...: runs benchtarget, sources the URL it prints
	local name=$1; shift
	taskset -c "$SERVER_CPU" bin/benchtarget "$@" >"$work/$name.out" 2>"$work/$name.log" &
	pids+=($!)
	for _ in $(seq 1 100); do grep -q _URL= "$work/$name.out" && break; sleep 0.1; done
	# shellcheck disable=SC1090
	source "$work/$name.out"
}
start_target livy livy
start_target bare bare --upstream "$LIVY_URL"
bare_pid=${pids[-1]}

cat >"$work/livygate.yaml" <<YAML
listen:
  address: 127.0.0.1:${GW_PORT}
livy:
  url: ${LIVY_URL}
auth:
  lockout:
    max_failures: 0
  ldap:
    url: ldap://127.0.0.1:${LDAP_PORT}
    allow_insecure: true
    bind_dn: cn=livygate,ou=services,dc=livygate,dc=test
    bind_password:
      file: ${work}/ldap/service.pw
    user_base_dn: ou=people,dc=livygate,dc=test
store:
  path: ${work}/livygate.db
YAML
# shellcheck disable=SC2086 # BENCH_GATEWAY_ENV holds VAR=value words
env ${BENCH_GATEWAY_ENV:-} taskset -c "$SERVER_CPU" bin/livygate serve --config "$work/livygate.yaml" 2>"$work/gateway.log" &
pids+=($!)
gw_pid=$!
GW_URL="http://127.0.0.1:${GW_PORT}"
wait_for "$GW_URL/healthz" "$work/gateway.log"

id=$(curl -fsS -u "alice:${ALICE_PASSWORD}" -H 'Content-Type: application/json' -H 'X-Requested-By: bench' \
	-d '{"kind":"pyspark"}' "$GW_URL/sessions" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
auth="Authorization: Basic $(printf 'alice:%s' "$ALICE_PASSWORD" | base64 -w0)"
curl -fsS -o /dev/null -H "$auth" "$GW_URL/sessions/$id" # warm the login and owner caches

# run_wrk NAME URL CONNECTIONS: appends "NAME rps p50_us p99_us" to results.
run_wrk() {
	taskset -c "$CLIENT_CPU" wrk -t1 -c"$3" -d"$DURATION" --latency -H "$auth" -H 'X-Requested-By: bench' "$2" >"$work/wrk-$1.txt"
	awk -v name="$1" '
		function us(v) { if (v ~ /us$/) return v+0; if (v ~ /ms$/) return (v+0)*1000; if (v ~ /s$/) return (v+0)*1000000; return v+0 }
		/Requests\/sec/ { rps = $2 }
		$1 == "50%" { p50 = us($2) }
		$1 == "99%" { p99 = us($2) }
		/Non-2xx/ { bad = $NF }
		END { if (bad > 0) { print "bench: " name " had " bad " non-2xx answers" > "/dev/stderr"; exit 1 }
		      print name, rps, p50, p99 }' "$work/wrk-$1.txt" >>"$work/results.txt"
}

# Throughput is measured at saturation ($CONNS connections); latency with one
# connection, where it is the cost of a request and not of queueing for the
# machine's two cores.
if part load; then
echo "Load: GET /sessions/$id, wrk from a second process, $DURATION per run, $ROUNDS rounds, alternating"
for _ in $(seq 1 "$ROUNDS"); do
	run_wrk bare "$BARE_URL/sessions/$id" "$CONNS"
	run_wrk gateway "$GW_URL/sessions/$id" "$CONNS"
	run_wrk bare-latency "$BARE_URL/sessions/$id" 1
	run_wrk gateway-latency "$GW_URL/sessions/$id" 1
done

python3 - "$work/results.txt" "$CONNS" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
def runs(name):
    return [r for r in rows if r[0] == name]
def med(name, i):
    return statistics.median(float(r[i]) for r in runs(name))
# This VM's speed drifts between runs, so each round's gateway run is compared
# with the bare run just before it, and the median of those ratios is reported.
ratios = sorted(float(g[1]) / float(b[1]) for b, g in zip(runs("bare"), runs("gateway")))
q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
conns = sys.argv[2]
print(f"{'':22}{'req/s (c=' + conns + ')':>14}{'p50 ms (c=1)':>14}{'p99 ms (c=1)':>14}")
print(f"{'bare ReverseProxy':22}{med('bare', 1):>14.0f}{med('bare-latency', 2)/1000:>14.3f}{med('bare-latency', 3)/1000:>14.3f}")
print(f"{'livygate':22}{med('gateway', 1):>14.0f}{med('gateway-latency', 2)/1000:>14.3f}{med('gateway-latency', 3)/1000:>14.3f}")
print(f"throughput ratio livygate/bare: median {statistics.median(ratios):.2f}x over {len(ratios)} paired rounds "
      f"(quartiles {q[0]:.2f}-{q[2]:.2f}; target >= 0.80x)")
added50 = (med('gateway-latency', 2) - med('bare-latency', 2)) / 1000
added99 = (med('gateway-latency', 3) - med('bare-latency', 3)) / 1000
print(f"added latency: p50 {added50:+.3f} ms, p99 {added99:+.3f} ms (one connection; target: p99 under +1 ms)")
print(f"(at c={conns}: p99 bare {med('bare', 3)/1000:.2f} ms, livygate {med('gateway', 3)/1000:.2f} ms)")
PY
fi

# Load beside nginx: the same mix through three proxies of the same fake Livy.
# nginx is Debian's, a plain reverse proxy from a config of its own, in the
# foreground, one process (no master), on the server CPU like the others; it
# keeps 64 idle connections to Livy, as both Go proxies do.
start_nginx() {
	local ng="$work/nginx"
	mkdir -p "$ng"
	cat >"$ng/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $ng/nginx.pid;
error_log $ng/error.log warn;
events { worker_connections 8192; }
http {
	access_log off;
	client_body_temp_path $ng/body;
	proxy_temp_path $ng/proxy;
	fastcgi_temp_path $ng/fastcgi;
	uwsgi_temp_path $ng/uwsgi;
	scgi_temp_path $ng/scgi;
	upstream livy { server ${LIVY_URL#http://}; keepalive 64; }
	server {
		listen 127.0.0.1:${NGINX_PORT};
		location / {
			proxy_pass http://livy;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
}
NGINX
	taskset -c "$SERVER_CPU" nginx -p "$ng" -c "$ng/nginx.conf" -e "$ng/error.log" 2>"$ng/stderr.log" &
	pids+=($!)
	nginx_pid=$!
	NGINX_URL="http://127.0.0.1:${NGINX_PORT}"
	wait_for "$NGINX_URL/sessions/$id" "$ng/error.log"
}

# run_mix NAME URL CONNECTIONS DURATION: one wrk run of the mix; appends
# "NAME CONNECTIONS rps p50_us p99_us p999_us non2xx socket_errors requests".
run_mix() {
	taskset -c "$CLIENT_CPU" wrk -t1 -c"$3" -d"$4" --timeout "$MIX_TIMEOUT" -s deploy/dev/loadmix.lua \
		-H "$auth" "$2" -- "$id" >"$work/mix-$1-$3.txt" 2>&1 || { cat "$work/mix-$1-$3.txt" >&2; exit 1; }
	printf '%s %s %s\n' "$1" "$3" "$(sed -n 's/^LOADMIX //p' "$work/mix-$1-$3.txt")" >>"$work/mix.txt"
}
# hwm PID / rss PID: peak / current resident set in KiB; reset_hwm PID
# starts a new peak (clear_refs 5).
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
reset_hwm() { echo 5 >"/proc/$1/clear_refs"; }

NGINX_PORT=${BENCH_NGINX_PORT:-39392}
MIX_TIMEOUT=${BENCH_MIX_TIMEOUT:-2s}
if part loadmix || part soak; then
	# The mix polls statement 0 of the session: it must exist from the start.
	curl -fsS -o /dev/null -H "$auth" -H 'Content-Type: application/json' -H 'X-Requested-By: bench' \
		-d '{"code":"1+1"}' "$GW_URL/sessions/$id/statements"
fi
# BENCH_MIX_CONNECTIONS, _ROUNDS, _DURATION and _PROXIES (a subset of
# "livygate bare nginx") shape it; BENCH_MIX_TIMEOUT is wrk's (2 s).
if part loadmix; then
mix_levels=${BENCH_MIX_CONNECTIONS:-1 16 256 1000}
mix_rounds=${BENCH_MIX_ROUNDS:-3}
mix_duration=${BENCH_MIX_DURATION:-5s}
start_nginx
echo
echo "Load beside nginx: Sparkmagic-like mix (deploy/dev/loadmix.lua), wrk -t1 --timeout $MIX_TIMEOUT on CPU $CLIENT_CPU,"
echo "proxies and fake Livy on CPU $SERVER_CPU; $mix_duration per run, $mix_rounds rounds per level, order rotating:"
declare -A proxy_url=([bare]=$BARE_URL [livygate]=$GW_URL [nginx]=$NGINX_URL)
declare -A proxy_pid=([bare]=$bare_pid [livygate]=$gw_pid [nginx]=$nginx_pid)
read -ra order <<<"${BENCH_MIX_PROXIES:-livygate bare nginx}"
for c in $mix_levels; do
	for p in "${proxy_pid[@]}"; do reset_hwm "$p"; done
	for r in $(seq 1 "$mix_rounds"); do
		for k in "${!order[@]}"; do
			name=${order[$(((r + k) % ${#order[@]}))]}
			run_mix "$name" "${proxy_url[$name]}" "$c" "$mix_duration"
		done
	done
	for name in "${order[@]}"; do echo "rss $name $c $(hwm "${proxy_pid[$name]}")" >>"$work/mix-rss.txt"; done
done
python3 - "$work/mix.txt" "$work/mix-rss.txt" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
peak = {(r[1], r[2]): int(r[3]) for r in (l.split() for l in open(sys.argv[2]))}
names = [n for n in ("livygate", "bare", "nginx") if any(r[0] == n for r in rows)]
print(f"{'conns':>5} {'proxy':9}{'req/s':>8}{'x nginx':>8}{'p50 ms':>8}{'p99 ms':>8}{'p99.9 ms':>9}{'non-2xx':>8}{'socket':>7}{'peak RSS MB':>12}")
for c in dict.fromkeys(r[1] for r in rows):
    runs = {n: [r for r in rows if r[0] == n and r[1] == c] for n in names}
    for n in names:
        med = lambda i: statistics.median(float(r[i]) for r in runs[n])
        # Each run is compared with nginx's run of the same round: this VM drifts.
        ratio = statistics.median(float(a[2]) / float(b[2]) for a, b in zip(runs[n], runs["nginx"])) if runs.get("nginx") else 0
        bad = sum(int(r[6]) for r in runs[n])
        sock = sum(int(r[7]) for r in runs[n])
        print(f"{c:>5} {n:9}{med(2):>8.0f}{ratio:>7.2f}x{med(3)/1000:>8.2f}{med(4)/1000:>8.2f}{med(5)/1000:>9.2f}"
              f"{bad:>8}{sock:>7}{peak[(n, c)]/1024:>12.1f}")
print("medians over the rounds; errors summed over them (non-2xx answers; socket: connect, read, write, timeout)")
PY
fi

# Soak: the mix through livygate alone for BENCH_SOAK_DURATION, its RSS
# sampled every 10 s; memory is flat when the slope after warm-up is ~0.
if part soak; then
soak_c=${BENCH_SOAK_CONNECTIONS:-1000}
soak_s=${BENCH_SOAK_SECONDS:-300}
echo
echo "Soak: the mix through livygate at c=$soak_c for ${soak_s}s, each created session deleted again, RSS every 10 s:"
reset_hwm "$gw_pid"
taskset -c "$CLIENT_CPU" wrk -t1 -c"$soak_c" -d"${soak_s}s" --timeout "$MIX_TIMEOUT" -s deploy/dev/loadmix.lua \
	-H "$auth" "$GW_URL" -- "$id" delete >"$work/soak-wrk.txt" 2>&1 &
wrk_pid=$!
pids+=("$wrk_pid")
: >"$work/soak-rss.txt"
t=0
while kill -0 "$wrk_pid" 2>/dev/null; do
	sleep 10
	t=$((t + 10))
	kill -0 "$wrk_pid" 2>/dev/null && echo "$t $(rss "$gw_pid")" >>"$work/soak-rss.txt"
done
wait "$wrk_pid" || { cat "$work/soak-wrk.txt" >&2; exit 1; }
python3 - "$work/soak-rss.txt" "$work/soak-wrk.txt" "$(hwm "$gw_pid")" <<'PY'
import sys
s = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
r = next(l.split()[1:] for l in open(sys.argv[2]) if l.startswith("LOADMIX "))
def slope(pts):  # least squares, MB per minute
    n = len(pts); mt = sum(t for t, _ in pts) / n; mr = sum(v for _, v in pts) / n
    den = sum((t - mt) ** 2 for t, _ in pts)
    return sum((t - mt) * (v - mr) for t, v in pts) / den * 60 / 1024 if den else 0.0
mb = [v / 1024 for _, v in s]
late = s[len(s) // 2:]
print(f"  {r[0]} req/s, p99 {int(r[2])/1000:.1f} ms, p99.9 {int(r[3])/1000:.1f} ms, non-2xx {r[4]}, socket errors {r[5]}, {r[6]} requests")
print(f"  livygate RSS over {len(s)} samples: first {mb[0]:.1f} MB, last {mb[-1]:.1f} MB, max {max(mb):.1f} MB; "
      f"slope {slope(s):+.2f} MB/min overall, {slope(late):+.2f} MB/min over the second half (flat: ~0); "
      f"peak {int(sys.argv[3]) / 1024:.1f} MB (VmHWM)")
PY
fi

if part login; then
echo
echo "Login cost (Go benchmarks in gateway/auth against a real slapd):"
go test -tags integration -run NONE -bench 'BenchmarkBasicCached|BenchmarkLDAPColdBind' -benchtime 2s ./gateway/auth/ | tee "$work/auth-bench.txt" | grep -E '^Benchmark' || true
python3 - "$work/auth-bench.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
cached = re.search(r'BenchmarkBasicCached\S*\s+\d+\s+([\d.]+) ns/op', text)
cold = re.search(r'BenchmarkLDAPColdBind\S*\s+\d+\s+([\d.]+) ns/op', text)
if not (cached and cold):
    sys.exit("bench: auth benchmarks did not run:\n" + text)
c, k = float(cached.group(1)), float(cold.group(1))
print(f"cached Basic check: {c:.0f} ns/op; cold LDAP bind: {k/1e6:.2f} ms/op; the cache is {k/c:,.0f}x cheaper")
PY

fi

if part tokens; then
echo
echo "Tokens (Go benchmarks in gateway/token; RS keys are 3072-bit):"
go test -run NONE -bench 'BenchmarkMint|BenchmarkJWKS|BenchmarkBaselineHandler' -benchtime 2s ./gateway/token/ >"$work/token-bench.txt" 2>&1 ||
	{ tail -20 "$work/token-bench.txt"; exit 1; }
python3 - "$work/token-bench.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
mints = dict(re.findall(r'BenchmarkMint/(\w+)-\d+\s+\d+\s+[\d.]+ ns/op\s+([\d.]+) mints/s', text))
ns = dict(re.findall(r'Benchmark(JWKS|BaselineHandler)-\d+\s+\d+\s+([\d.]+) ns/op', text))
if len(mints) != 4 or len(ns) != 2:
    sys.exit("bench: token benchmarks did not run:\n" + text)
base = float(mints["RS256"])
for alg in ("RS256", "RS512", "ES256", "EdDSA"):
    print(f"  mint {alg:6} {float(mints[alg]):>10,.0f} mints/s  ({float(mints[alg]) / base:.1f}x RS256)")
j, h = float(ns["JWKS"]), float(ns["BaselineHandler"])
print(f"  GET /.well-known/jwks.json: {j:,.0f} ns/op vs {h:,.0f} ns/op for a handler writing the same bytes ({j / h:.2f}x)")
PY

fi

if part sync; then
echo
echo "User sync: ${BENCH_USERS:-10000} JupyterHub users' homes on a real NameNode, vs the real hadoop CLI (same run):"
BENCH_USERS=${BENCH_USERS:-10000} BENCH_OUT="$work/sync-table.txt" go test -tags 'integration bench' -count=1 \
	-run TestBenchSync -v -timeout 30m ./cmd/livygate/ >"$work/sync-bench.txt" 2>&1 ||
	{ tail -40 "$work/sync-bench.txt"; exit 1; }
cat "$work/sync-table.txt"
fi

if part ui; then
echo
echo "Admin UI pages, 10,000 users and 100,000 audit events in the store (target < 200 ms each):"
bash deploy/dev/bench-ui.sh
fi

if part governance; then
echo
echo "Session governance (Go benchmarks, fake Livy and Hub in the same process):"
go test -run NONE -bench 'BenchmarkCreate' -benchtime 3s -count 3 ./gateway/proxy/ >"$work/governance-bench.txt" 2>&1 ||
	{ tail -20 "$work/governance-bench.txt"; exit 1; }
go test -run NONE -bench 'BenchmarkPass|BenchmarkListCall' -benchtime 3s -count 3 ./gateway/reaper/ >>"$work/governance-bench.txt" 2>&1 ||
	{ tail -20 "$work/governance-bench.txt"; exit 1; }
python3 - "$work/governance-bench.txt" <<'PY'
import sys; sys.path.insert(0, "deploy/dev")
from gobench import medians
med = medians(sys.argv[1])
plain, lim, nocount = med("Create/plain"), med("Create/limits"), med("Create/limits-without-count")
p, l = med("Pass"), med("ListCall")
print(f"  create, plain: {plain/1e3:,.0f} µs; with limits: {lim/1e3:,.0f} µs ({lim/plain:.2f}x); "
      f"limits without the session count (no list call): {nocount/1e3:,.0f} µs ({nocount/plain:.2f}x)")
print(f"  reaper pass over 10,000 sessions (1,000 users): {p/1e6:.1f} ms vs one list call {l/1e6:.1f} ms ({p/l:.2f}x)")
PY
fi

if part store; then
echo
echo "Store, SQLite vs PostgreSQL (Go benchmarks in gateway/store; a real PostgreSQL on loopback, durable defaults):"
go test -tags integration -run NONE -bench BenchmarkStore -benchtime 2s -count 3 ./gateway/store/ >"$work/store-bench.txt" 2>&1 ||
	{ tail -20 "$work/store-bench.txt"; exit 1; }
python3 - "$work/store-bench.txt" <<'PY'
import sys; sys.path.insert(0, "deploy/dev")
from gobench import medians
med = medians(sys.argv[1], "Store/")
sq, pg = med("Record/sqlite", "events/s"), med("Record/postgres", "events/s")
print(f"  audit events written: SQLite {sq:,.0f}/s, PostgreSQL {pg:,.0f}/s (PostgreSQL {pg/sq:.2f}x)")
for name, what in (("LockoutCheck", "lockout check (before an uncached login)"), ("LoginFailure", "counting a failed login")):
    s, p = med(name + "/sqlite"), med(name + "/postgres")
    print(f"  {what}: SQLite {s/1e3:,.0f} µs, PostgreSQL {p/1e3:,.0f} µs ({p/s:.1f}x)")
PY
fi

if part ha; then
echo
echo "HA: a poll and a create through the whole gateway, PostgreSQL store vs SQLite vs straight to Livy (fake), same run:"
go test -tags integration -run NONE -bench BenchmarkHAStore -benchtime 2s -count 3 ./gateway/ >"$work/ha-bench.txt" 2>&1 ||
	{ tail -20 "$work/ha-bench.txt"; exit 1; }
python3 - "$work/ha-bench.txt" <<'PY'
import sys; sys.path.insert(0, "deploy/dev")
from gobench import medians
med = medians(sys.argv[1], "HAStore/")
for what, name in (("poll (GET /sessions/{id})", "Poll"), ("create (POST /sessions)", "Create")):
    d, s, p = med(name + "/direct"), med(name + "/sqlite"), med(name + "/postgres")
    print(f"  {what}: direct {d/1e3:,.0f} µs; gateway on SQLite {s/1e3:,.0f} µs (+{(s-d)/1e3:,.0f} µs); "
          f"on PostgreSQL {p/1e3:,.0f} µs (+{(p-d)/1e3:,.0f} µs); PostgreSQL/SQLite {p/s:.2f}x, added {(p-d)/max(s-d, 1):.2f}x")
d, s, p = (med("PollParallel/" + n, "req/s") for n in ("direct", "sqlite", "postgres"))
print(f"  polls, 4 clients per CPU: direct {d:,.0f} req/s; SQLite {s:,.0f} req/s; PostgreSQL {p:,.0f} req/s (PostgreSQL/SQLite {p/s:.2f}x)")
print(f"  PostgreSQL statements per poll: {med('Poll/postgres', 'pgstmts/op'):g} (sequential), "
      f"{med('PollParallel/postgres', 'pgstmts/op'):g} (parallel); per create: {med('Create/postgres', 'pgstmts/op'):.2f} "
      "(the audit insert, queued and batched off the request)")
if med('Poll/postgres', 'pgstmts/op') != 0 or med('PollParallel/postgres', 'pgstmts/op') != 0:
    sys.exit("bench: a poll cost a PostgreSQL statement")
PY
fi

# The last parts run on the real stack: started once (start is a no-op on a
# running one), stopped after them.
# on_stack NAME SCRIPT ROUNDS runs deploy/dev/SCRIPT with the stack up.
on_stack() {
	bash deploy/dev/stack.sh start >"$work/$1-stack.log" 2>&1 || { tail -30 "$work/$1-stack.log"; return 1; }
	.cache/dev/py/bin/python "deploy/dev/$2" "$3"
}
rc=0
if part warm; then
	echo
	echo "Warm sessions: POST /sessions to spark.range(1000).count()'s result through livygate, cold vs warm, real stack, same run:"
	on_stack warm warmcell.py "${BENCH_WARM_ROUNDS:-5}" || rc=$?
fi
if part firstcell && [ $rc -eq 0 ]; then
	echo
	echo "First cell: POST /sessions to spark.range(1000).count()'s result, real stack, same run:"
	on_stack firstcell firstcell.py "${BENCH_FIRSTCELL_ROUNDS:-3}" || rc=$?
fi
if part warm || part firstcell; then
	bash deploy/dev/stack.sh down >/dev/null 2>&1
fi
[ "$rc" -eq 0 ] || exit "$rc"
