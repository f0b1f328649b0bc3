"""Time from POST /sessions to the first cell's result, through livygate and
straight against Livy, in the same run (rounds alternate, so both see the
same machine). Needs the dev stack (deploy/dev/stack.sh start).

    .cache/dev/py/bin/python deploy/dev/firstcell.py [ROUNDS]

Prints one line per round and a median/min/max table. Exits 1 if any round
fails (the session dies, or the statement does not print 1000).
"""

import statistics
import sys
import time

import requests

from gateway2 import load_env

CODE = "print(spark.range(1000).count())"
HEADERS = {"X-Requested-By": "firstcell"}


def spread(ts):
    """The median, min, max, stdev and count of ts, as the tables print them."""
    sd = statistics.stdev(ts) if len(ts) > 1 else 0.0
    return f"median {statistics.median(ts):6.1f} s  (min {min(ts):.1f}, max {max(ts):.1f}, stdev {sd:.1f}, n={len(ts)})"


def wait(get, done, timeout=600, every=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = get()
        if done(body):
            return body
        time.sleep(every)
    raise RuntimeError(f"timed out after {timeout}s: {body}")


def first_cell(url, auth, body):
    """Seconds from POST /sessions to the statement's output; deletes the session."""
    s = requests.Session()
    s.auth, s.headers = auth, HEADERS
    t0 = time.monotonic()
    r = s.post(f"{url}/sessions", json=body, timeout=120)
    r.raise_for_status()
    sid = r.json()["id"]
    try:
        st = wait(lambda: s.get(f"{url}/sessions/{sid}/state", timeout=60).json()["state"],
                  lambda st: st not in ("not_started", "starting"))
        if st != "idle":
            raise RuntimeError(f"session {sid} is {st}")
        stmt = s.post(f"{url}/sessions/{sid}/statements", json={"code": CODE}, timeout=60).json()["id"]
        out = wait(lambda: s.get(f"{url}/sessions/{sid}/statements/{stmt}", timeout=60).json(),
                   lambda o: o["state"] in ("available", "error", "cancelled"))
        took = time.monotonic() - t0
        text = out.get("output", {}).get("data", {}).get("text/plain", "")
        if text.strip() != "1000":
            raise RuntimeError(f"statement answered {out}")
        return took
    finally:
        s.delete(f"{url}/sessions/{sid}", timeout=60)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    env = load_env()
    targets = {
        "livygate": (env["STACK_GATEWAY_URL"], ("alice", env["STACK_ALICE_PASSWORD"]), {"kind": "pyspark"}),
        "Livy": (env["STACK_LIVY_URL"], None, {"kind": "pyspark", "proxyUser": "alice"}),
    }
    times = {name: [] for name in targets}
    for i in range(rounds):
        for name, (url, auth, body) in targets.items():
            t = first_cell(url, auth, body)
            times[name].append(t)
            print(f"  round {i + 1}: {name:8} {t:6.1f} s", flush=True)
    for name, ts in times.items():
        print(f"  {name:8} {spread(ts)}")
    ratio = statistics.median(times["livygate"]) / statistics.median(times["Livy"])
    print(f"  livygate / Livy: {ratio:.2f}x")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line, non-zero exit
        sys.exit(f"firstcell: {e}")
