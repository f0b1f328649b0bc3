"""High availability: two gateways on one PostgreSQL, two Livy servers.

Runs only against the HA stack (DEV_HA=1 deploy/dev/stack.sh start; `make
test-e2e` runs it in its last phase, `make test-e2e-ha` alone). Marked `ha`:
pytest.ini deselects these tests by default. Selected against a stack
without HA they fail, never skip.

Gateway A and gateway B are two `livygate serve` processes with the same
configuration (but their ports and sync lock files) and one PostgreSQL
store. The tests run in file order: the last ones kill gateway A and then
the second Livy.

The tests of several Livy backends (merged lists, a Livy down, a Livy
restart) need `livy.backends` in the gateways' configuration: the stack
writes it when this livygate accepts it and names both backends in
STACK_LIVY_BACKENDS. Without it they are skipped (the feature is not there
yet); with it they must pass.
"""

import os
import re
import signal
import subprocess
import threading
import time
import uuid

import pytest
import requests

from conftest import REPO

pytestmark = pytest.mark.ha

SESSION_TIMEOUT = int(os.environ.get("E2E_HA_SESSION_TIMEOUT", "300"))
TAG = uuid.uuid4().hex[:6]


class HA:
    def __init__(self, stack):
        env = stack.env
        if env.get("STACK_HA") != "1":
            pytest.fail("the stack is not the HA stack: start it with DEV_HA=1 deploy/dev/stack.sh start "
                        "(make test-e2e does)", pytrace=False)
        self.stack = stack
        self.env = env
        self.a = env["STACK_GATEWAY_URL"]
        self.b = env["STACK_GATEWAY2_URL"]
        self.livys = {"livy1": env["STACK_LIVY_URL"], "livy2": env["STACK_LIVY2_URL"]}
        self.backends = env.get("STACK_LIVY_BACKENDS", "").strip()
        self.interval = parse_duration(env["STACK_SYNC_INTERVAL"])

    def call(self, gw, user, method, path, json=None, timeout=60, **kw):
        return requests.request(method, gw + path, json=json, headers={"X-Requested-By": "e2e"},
                                auth=(user, self.stack.passwords[user]), timeout=timeout, **kw)

    def sql(self, query):
        """One query through the real psql, as an operator would; rows of
        |-separated fields."""
        out = subprocess.run([os.path.join(self.env["STACK_PG_BIN"], "psql"), self.env["STACK_PG_DSN"],
                              "-AtXq", "-c", query], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        return [line.split("|") for line in out.stdout.splitlines() if line]

    def timer_runs_since(self, since_ms):
        return [int(r[0]) for r in self.sql(
            f"SELECT started_ms FROM sync_runs WHERE trigger_by = 'timer' AND started_ms >= {int(since_ms)} ORDER BY started_ms")]

    def need_backends(self):
        if not self.backends:
            pytest.skip("livy.backends is not in this stack's configuration (this livygate does not accept it yet)")


def parse_duration(s):
    m = re.fullmatch(r"(\d+)(ms|s|m)", s)
    assert m, s
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[m.group(2)]


def now_ms():
    return int(time.time() * 1000)


@pytest.fixture(scope="module")
def ha(stack):
    return HA(stack)


@pytest.fixture(scope="module")
def alices(ha):
    """alice's pyspark session, created through gateway A at the start so
    that it starts while the other tests run; deleted at the end."""
    r = ha.call(ha.a, "alice", "POST", "/sessions", {"kind": "pyspark", "name": f"ha-alice-{TAG}"})
    assert r.status_code == 201, r.text
    s = r.json()
    yield s
    ha.call(ha.b, "alice", "DELETE", f"/sessions/{s['id']}")


def wait_idle(ha, gw, user, sid):
    deadline = time.time() + SESSION_TIMEOUT
    while True:
        r = ha.call(gw, user, "GET", f"/sessions/{sid}")
        assert r.status_code == 200, r.text
        state = r.json()["state"]
        if state == "idle":
            return
        assert state in ("not_started", "starting", "busy"), r.text
        assert time.time() < deadline, f"session {sid} still {state} after {SESSION_TIMEOUT}s"
        time.sleep(2)


def test_a_session_made_on_a_is_seen_on_b(ha, alices):
    r = ha.call(ha.b, "alice", "GET", f"/sessions/{alices['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["proxyUser"] == "alice"
    assert r.json()["name"] == f"ha-alice-{TAG}"
    # bob sees nothing of it on either gateway.
    for gw in (ha.a, ha.b):
        assert ha.call(gw, "bob", "GET", f"/sessions/{alices['id']}").status_code == 404


def test_sync_runs_once_per_interval_across_both(ha):
    """Both gateways run the sync timer; the store's lease lets one of them
    run it per interval: the timer runs the store records are one per
    interval, never two."""
    iv = ha.interval
    t0 = now_ms()
    time.sleep(3 * iv + 1)
    runs = ha.timer_runs_since(t0)
    window = (now_ms() - t0) / 1000
    assert len(runs) >= int(window / iv) - 1, f"only {len(runs)} timer runs in {window:.0f}s at {iv}s"
    assert len(runs) <= int(window / iv) + 1, f"{len(runs)} timer runs in {window:.0f}s at {iv}s: both replicas ran"
    gaps = [(b - a) / 1000 for a, b in zip(runs, runs[1:])]
    assert all(g >= 0.6 * iv for g in gaps), f"runs {gaps}s apart at an interval of {iv}s: two replicas ran"
    print(f"{len(runs)} timer sync runs in {window:.1f}s at {iv}s, gaps {gaps}")
    # Exactly one gateway took the sync lease.
    logs = [(REPO / ".cache/dev/logs" / f).read_text(errors="replace") if (REPO / ".cache/dev/logs" / f).exists() else ""
            for f in ("livygate.log", "livygate2.log")]
    taken = re.compile(r'job"?[=:]"?sync\b.*lease: taken|lease: taken.*job"?[=:]"?sync\b')
    takers = [i for i, text in enumerate(logs) if any(taken.search(line) for line in text.splitlines())]
    assert len(takers) == 1, f"gateways that took the sync lease: {takers}"


def test_admin_ui_login_on_a_works_on_b(ha):
    ui = requests.Session()
    form = ui.get(f"{ha.a}/admin/ui/login", timeout=30)
    assert form.status_code == 200, form.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    done = ui.post(f"{ha.a}/admin/ui/login", data={"user": "carol", "password": ha.stack.passwords["carol"],
                                                    "csrf": csrf, "next": "/admin/ui/"},
                   allow_redirects=False, timeout=30)
    assert done.status_code == 303, done.text
    cookie = ui.cookies.get("livygate_admin")
    assert cookie, done.headers
    # The cookie alone (no password) on gateway B.
    page = requests.get(f"{ha.b}/admin/ui/", cookies={"livygate_admin": cookie}, allow_redirects=False, timeout=30)
    assert page.status_code == 200, (page.status_code, page.headers.get("Location"))
    assert "carol" in page.text
    # The cookie is really checked: a made-up one is sent to the login form.
    assert requests.get(f"{ha.b}/admin/ui/", cookies={"livygate_admin": "forged"}, allow_redirects=False,
                        timeout=30).status_code == 303


def test_session_used_on_b_and_deleted_on_b(ha, alices):
    sid = alices["id"]
    wait_idle(ha, ha.b, "alice", sid)
    r = ha.call(ha.b, "alice", "POST", f"/sessions/{sid}/statements", {"code": "print(6 * 7)"})
    assert r.status_code == 201, r.text
    st = r.json()["id"]
    deadline = time.time() + 120
    while True:
        r = ha.call(ha.a, "alice", "GET", f"/sessions/{sid}/statements/{st}")
        assert r.status_code == 200, r.text
        if r.json()["state"] == "available":
            break
        assert time.time() < deadline, r.text
        time.sleep(1)
    assert "42" in str(r.json()["output"]), r.text
    # A second session of alice through A, deleted through B.
    r = ha.call(ha.a, "alice", "POST", "/sessions", {"kind": "pyspark", "name": f"ha-del-{TAG}"})
    assert r.status_code == 201, r.text
    other = r.json()["id"]
    r = ha.call(ha.b, "alice", "DELETE", f"/sessions/{other}")
    assert r.status_code == 200, r.text
    for gw in (ha.a, ha.b):
        assert ha.call(gw, "alice", "GET", f"/sessions/{other}").status_code == 404


def test_gateway_a_killed_during_traffic_b_carries_on(ha, alices):
    sid = alices["id"]
    failures, polls = [], [0]
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            try:
                r = ha.call(ha.b, "alice", "GET", f"/sessions/{sid}", timeout=10)
                if r.status_code != 200:
                    failures.append(f"{r.status_code} {r.text[:200]}")
            except requests.RequestException as e:
                failures.append(repr(e))
            polls[0] += 1
            time.sleep(0.05)

    t = threading.Thread(target=poll, daemon=True)
    t.start()
    time.sleep(2)
    pid = int(open(ha.env["STACK_GATEWAY_PID_FILE"]).read().strip())
    killed_ms = now_ms()
    os.killpg(pid, signal.SIGKILL)
    time.sleep(3)
    with pytest.raises(requests.ConnectionError):
        requests.get(ha.a + "/readyz", timeout=5)
    # A mutating call through B, and a statement.
    r = ha.call(ha.b, "alice", "POST", f"/sessions/{sid}/statements", {"code": "print(1 + 1)"})
    assert r.status_code == 201, r.text
    # The sync goes on: if A held its lease, B takes it over once it expires
    # (two intervals) and runs the next one.
    deadline = time.time() + 4 * ha.interval + 10
    while not ha.timer_runs_since(killed_ms + 2 * ha.interval * 1000 - 1000):
        assert time.time() < deadline, "no timer sync run after gateway A died"
        time.sleep(1)
    took_over_s = (ha.timer_runs_since(killed_ms)[0] - killed_ms) / 1000
    stop.set()
    t.join(15)
    print(f"gateway A killed: {polls[0]} polls through B, {len(failures)} failed; "
          f"next timer sync run {took_over_s:.1f}s after the kill")
    assert polls[0] > 20
    assert not failures, f"{len(failures)} of {polls[0]} polls through B failed while A died: {failures[:5]}"


# Several Livy backends (livy.backends). Gateway A is dead from here on.

def placed(ha, name):
    """Which Livy runs the session named name, asked directly."""
    found = []
    for backend, url in ha.livys.items():
        r = requests.get(url + "/sessions", params={"size": 1000}, timeout=30)
        if r.status_code != 200:
            continue
        for s in r.json()["sessions"]:
            # The gateway names it owner~name in Livy.
            if (s.get("name") or "").split("~", 1)[-1] == name:
                found.append((backend, s["id"]))
    assert len(found) == 1, f"session {name} on {found}"
    return found[0]


@pytest.fixture(scope="module")
def bobs(ha, alices):
    """bob's session, placed by the gateway (fewest live sessions: the Livy
    alice's session is not on)."""
    ha.need_backends()
    r = ha.call(ha.b, "bob", "POST", "/sessions", {"kind": "pyspark", "name": f"ha-bob-{TAG}"})
    assert r.status_code == 201, r.text
    s = r.json()
    yield s
    ha.call(ha.b, "bob", "DELETE", f"/sessions/{s['id']}")


def test_lists_merge_both_livys(ha, alices, bobs):
    ha.need_backends()
    on = {placed(ha, f"ha-alice-{TAG}")[0], placed(ha, f"ha-bob-{TAG}")[0]}
    assert on == {"livy1", "livy2"}, f"both sessions were placed on {on}"
    r = ha.call(ha.b, "carol", "GET", "/sessions")
    assert r.status_code == 200, r.text
    names = {s.get("name") for s in r.json()["sessions"]}
    # An admin sees other users' sessions under their Livy names (owner~name).
    assert {f"alice~ha-alice-{TAG}", f"bob~ha-bob-{TAG}"} <= names, names
    direct = sum(requests.get(u + "/sessions", timeout=30).json()["total"] for u in ha.livys.values())
    assert r.json()["total"] == direct, (r.json()["total"], direct)
    # Each user still sees only their own.
    mine = ha.call(ha.b, "bob", "GET", "/sessions").json()
    assert {s["proxyUser"] for s in mine["sessions"]} == {"bob"}, mine
    assert mine["total"] == len(mine["sessions"])


def test_one_livy_down_only_its_sessions_answer_503(ha, alices, bobs):
    ha.need_backends()
    where = {"alice": placed(ha, f"ha-alice-{TAG}")[0], "bob": placed(ha, f"ha-bob-{TAG}")[0]}
    down = "livy2"
    stack_cmd(ha, "livy2", "stop")
    try:
        for user, s in (("alice", alices), ("bob", bobs)):
            r = ha.call(ha.b, user, "GET", f"/sessions/{s['id']}")
            if where[user] == down:
                assert r.status_code == 503, r.text
                assert down in r.json()["msg"], r.text
            else:
                assert r.status_code == 200, r.text
        r = ha.call(ha.b, "carol", "GET", "/sessions")
        assert r.status_code == 200, r.text
    finally:
        stack_cmd(ha, "livy2", "start")


def test_livy_restart_does_not_let_ids_cross_users(ha, alices, bobs):
    """livy2 was restarted (previous test): it counts from 0 again. A new
    session there never takes the gateway id of one it had before."""
    ha.need_backends()
    old = {s["id"] for s in (alices, bobs)}
    r = ha.call(ha.b, "carol", "POST", "/sessions", {"kind": "pyspark", "name": f"ha-carol-{TAG}"})
    assert r.status_code == 201, r.text
    new = r.json()["id"]
    try:
        assert new not in old, f"gateway id {new} reused"
        for user, s in (("alice", alices), ("bob", bobs)):
            r = ha.call(ha.b, user, "GET", f"/sessions/{s['id']}")
            assert r.status_code in (200, 404), r.text
            if r.status_code == 200:
                assert r.json()["proxyUser"] == user, f"{user}'s id {s['id']} now reaches {r.text}"
        assert ha.call(ha.b, "alice", "GET", f"/sessions/{new}").status_code == 404
    finally:
        ha.call(ha.b, "carol", "DELETE", f"/sessions/{new}")


def stack_cmd(ha, *args):
    out = subprocess.run(["bash", str(REPO / "deploy/dev/stack.sh"), *args], env=dict(os.environ, DEV_HA="1"),
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
