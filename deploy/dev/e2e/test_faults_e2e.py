"""Livy's faults end to end (issue 15, "Faults"): Livy killed mid-request
and coming back, and Livy slow, against the stack's real Livy.

How: a second livygate (the stack's configuration, its own port and store,
livy.timeout 4 s) talks to the real Livy through a small TCP link in this
test, which can stall Livy's answers, slow them, or cut every connection
and refuse new ones, as a Livy process that died does, and then let
everything through again, as a Livy that came back does.

Why not kill the stack's Livy: every other test (and the browser tests run
after this suite) uses it, its sessions (Spark drivers, ~600 MB each) would
die with it, and restarting it means reproducing stack.sh's Livy
environment (Spark master, RSC ports, creation limits) from inside a test.
A second real Livy costs two cores this machine does not have spare. What
the gateway sees through the link is what it sees when Livy dies (reset
connections, then refused ones) or stalls (no answer); the same faults
with a listener really closed and reopened on the same port are in
gateway/faults_integration_test.go (TestFaultLivyKilledMidRequest,
TestFaultLivySlow).

Each test checks the answer (502 / 504 with a JSON message, never a hang
or a 401), that it comes within a bound, and that the same gateway serves
again as soon as Livy does, without a restart.
"""

import socket
import threading
import time
from urllib.parse import urlparse

import pytest
import requests

from conftest import second_gateway

LIVY_TIMEOUT = 4  # seconds: the second gateway's livy.timeout


class LivyLink:
    """A TCP forwarder to Livy that the test can stall, slow or cut."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.conns = set()
        self.down = False
        self.stalled = False
        self.delay = 0.0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, src, dst, answers):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if answers:
                    if self.delay:
                        time.sleep(self.delay)
                    while self.stalled and not self.down:
                        time.sleep(0.05)
                    if self.down:
                        break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                self._close(s)

    def _close(self, s):
        with self.lock:
            self.conns.discard(s)
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def kill(self):
        """Livy dies: every open connection is reset, new ones are refused."""
        self.down = True
        with self.lock:
            conns = list(self.conns)
        for s in conns:
            self._close(s)

    def revive(self):
        self.down, self.stalled, self.delay = False, False, 0.0

    def close(self):
        self.kill()
        self.listener.close()


@pytest.fixture(scope="module")
def link(stack):
    u = urlparse(stack.livy)
    lk = LivyLink(u.hostname, u.port)
    yield lk
    lk.close()


@pytest.fixture(scope="module")
def gw(stack, link):
    """A second livygate in front of the link, with a short livy.timeout,
    no reaper and no sync timer of its own."""
    def edit(cfg, _tmp):
        cfg["livy"]["url"] = f"http://127.0.0.1:{link.port}"
        cfg["livy"]["timeout"] = f"{LIVY_TIMEOUT}s"
        cfg.pop("reaper", None)
        cfg.get("sync", {}).pop("interval", None)
        cfg.get("metrics", {}).pop("listen", None)
    with second_gateway(stack.env, edit, "livygate-faults", stop_timeout=10) as (url, proc):
        yield url
    # SIGTERM with nothing in flight: it must be quick (killed after 10 s).
    assert proc.returncode == 0, proc.returncode


def call(stack, url, method, path, user="alice", timeout=30):
    t0 = time.monotonic()
    r = requests.request(method, url + path, auth=(user, stack.passwords[user]),
                         headers={"X-Requested-By": "e2e"}, timeout=timeout)
    return r, time.monotonic() - t0


def test_livy_killed_mid_request_then_back(stack, link, gw):
    """A request in flight when Livy dies is a 502 at once; calls while it
    is gone are quick 502/503 and /readyz says not ready; when Livy is
    back the same gateway answers with Livy's real list."""
    r, _ = call(stack, gw, "GET", "/sessions")
    assert r.status_code == 200, r.text

    link.stalled = True
    result = {}

    def inflight():
        result["r"], result["took"] = call(stack, gw, "GET", "/sessions")
    t = threading.Thread(target=inflight)
    t.start()
    time.sleep(1.0)  # the request is at Livy, its answer held
    assert t.is_alive(), result
    killed = time.monotonic()
    link.kill()
    t.join(timeout=LIVY_TIMEOUT + 10)
    assert not t.is_alive(), "the request in flight when Livy died hangs"
    r = result["r"]
    assert r.status_code == 502 and "msg" in r.json(), r.text
    assert time.monotonic() - killed < 2, "the request in flight was not answered at once"

    for method, path in [("GET", "/sessions"), ("GET", "/sessions/0"), ("GET", "/batches")]:
        r, took = call(stack, gw, method, path)
        assert r.status_code in (502, 503) and "msg" in r.json(), (path, r.status_code, r.text)
        assert took < 3, (path, took)
    assert requests.get(gw + "/readyz", timeout=10).status_code == 503

    link.revive()
    r, _ = call(stack, gw, "GET", "/sessions")
    assert r.status_code == 200, r.text
    assert requests.get(gw + "/readyz", timeout=10).status_code == 200
    # The stack's own gateway, not behind the link, never noticed.
    assert stack.call("alice", "GET", "/sessions").status_code == 200


def test_livy_slow(stack, link, gw):
    """Livy slower than livy.timeout: 504 at the timeout, for several
    callers at once; slow but within it: the answer; quick again: quick."""
    link.delay = 1.0
    r, took = call(stack, gw, "GET", "/sessions")
    assert r.status_code == 200 and took >= 1.0, (r.status_code, took)

    link.revive()
    link.stalled = True
    results = []

    def one():
        results.append(call(stack, gw, "GET", "/sessions"))
    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=LIVY_TIMEOUT + 10)
    assert len(results) == 4, "a call to a stalled Livy hangs"
    for r, took in results:
        assert r.status_code == 504 and "msg" in r.json(), r.text
        assert LIVY_TIMEOUT - 0.5 < took < LIVY_TIMEOUT + 2, took

    link.revive()
    r, took = call(stack, gw, "GET", "/sessions")
    assert r.status_code == 200 and took < 2, (r.status_code, took)
