"""Warm sessions end to end (README, "Warm sessions"), on a second gateway
with warm: on in front of the stack's Livy, Hub and LDAP, so the stack's own
gateway keeps them off for the other tests.

alice's notebook server starts (the stack's JupyterHub); the gateway starts
a pyspark session for her in the background, hidden from her list; the real
Sparkmagic kernel's first cell then gets that session and its result arrives
in about the time of the statement alone, not after Spark's start-up.
"""

import sys
import time
from pathlib import Path

import pytest
import requests

from conftest import wait_until
from kernel import SparkmagicKernel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from warmgw import livy_sessions, set_server, wait_no_sessions, warm_gateway, warm_session  # noqa: E402


@pytest.fixture(scope="module")
def gw(stack):
    wait_no_sessions(stack.env, "alice")
    with warm_gateway(stack.env) as url:
        yield url


def as_user(stack, url, user, method, path, **kw):
    return requests.request(method, url + path, auth=(user, stack.passwords[user]),
                            headers={"X-Requested-By": "e2e"}, timeout=60, **kw)


def last_line(result):
    assert result.ok, result.summary()
    lines = result.stdout.strip().splitlines()
    return lines[-1].strip() if lines else ""


def test_first_cell_gets_the_warm_session_started_with_the_notebook_server(stack, gw):
    set_server(stack.env, "alice", True)
    try:
        warm = warm_session(stack.env, "alice", timeout=300)
        assert warm["proxyUser"] == "alice" and warm["kind"] == "pyspark", warm
        # Not alice's yet: not in her list, not hers to use; bob never sees it.
        assert as_user(stack, gw, "alice", "GET", "/sessions").json()["total"] == 0
        assert as_user(stack, gw, "alice", "GET", f"/sessions/{warm['id']}").status_code == 404
        assert as_user(stack, gw, "bob", "GET", f"/sessions/{warm['id']}").status_code == 404
        page = as_user(stack, gw, "carol", "GET", "/admin/ui/sessions").text
        assert "<h2>Warm sessions</h2>" in page and warm["name"] in page, page

        with SparkmagicKernel(gw, username="alice", password=stack.passwords["alice"],
                              custom_headers={"X-Requested-By": "sparkmagic"}, cell_timeout=300) as k:
            t0 = time.monotonic()
            assert last_line(k.execute("print(spark.range(1000).count())")) == "1000"
            first = time.monotonic() - t0
            t0 = time.monotonic()
            assert last_line(k.execute("print(spark.range(1000).count())")) == "1000"
            alone = time.monotonic() - t0
            print(f"first cell {first:.1f} s, the same statement alone {alone:.1f} s")
            # The kernel's session is the warm one: no Spark start-up waited for.
            mine = livy_sessions(stack.env, "alice")
            assert [s["id"] for s in mine] == [warm["id"]], mine
            # Neither the driver's start-up nor the first Spark job's (class
            # loading, code generation, the JIT: ~15 s on local[1]) was waited
            # for: the warm session ran its warm-up statement before adoption.
            # What is left over the statement alone is Sparkmagic's own
            # hand-shake (the create, its status polls).
            assert first < alone + 5, (first, alone)
            sts = requests.get(f"{stack.env['STACK_LIVY_URL']}/sessions/{warm['id']}/statements",
                               headers={"X-Requested-By": "e2e"}, timeout=60).json()["statements"]
            assert sts[0]["code"] == "spark.range(1).count()", sts
            listed = as_user(stack, gw, "alice", "GET", "/sessions").json()
            assert [s["id"] for s in listed["sessions"]] == [warm["id"]] and listed["sessions"][0]["name"] is None, listed
            # While her adopted session lives, no second warm one starts. (Once
            # the kernel ends it, a new one may: her server still runs.)
            metrics = as_user(stack, gw, "carol", "GET", "/metrics").text
            assert "livygate_warm_starts_total 1" in metrics and "livygate_warm_adoptions_total 1" in metrics, metrics

        trail = as_user(stack, gw, "carol", "GET", "/admin/ui/audit?user=livygate-warm&format=json").json()
        assert any(e["proxy_user"] == "alice" and e["reason"].startswith("warm: adoption") for e in trail), trail
        assert any(e["proxy_user"] == "alice" and e["reason"].startswith("warm: start") for e in trail), trail
    finally:
        set_server(stack.env, "alice", False)
    # The server stopped: the next warm session (started after the kernel's
    # ended) goes too.
    wait_until("alice's sessions to end", lambda: livy_sessions(stack.env, "alice") == [], 180)


def test_a_different_body_gets_a_normal_create_and_the_warm_session_waits(stack, gw):
    set_server(stack.env, "alice", True)
    try:
        warm = warm_session(stack.env, "alice", timeout=300)
        r = as_user(stack, gw, "alice", "POST", "/sessions",
                    json={"kind": "pyspark", "driverMemory": "1g", "heartbeatTimeoutInSecond": 60})
        assert r.status_code == 201 and r.json()["id"] != warm["id"], r.text
        as_user(stack, gw, "alice", "DELETE", f"/sessions/{r.json()['id']}")
        assert any(s["id"] == warm["id"] for s in livy_sessions(stack.env, "alice"))
    finally:
        set_server(stack.env, "alice", False)
    wait_until("alice's warm session to end with her server", lambda: livy_sessions(stack.env, "alice") == [], 180)
