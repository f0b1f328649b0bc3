"""A second livygate on the dev stack with warm sessions on (warm: in the
README): the stack's configuration with its own port, store and log, so the
stack's own gateway keeps warm sessions off. Used by the warm e2e test and
the `warm` part of `make bench`.
"""

import time
from contextlib import contextmanager
from pathlib import Path

import requests

from gateway2 import load_env, second_gateway  # noqa: F401 (load_env: used by warmcell.py)

WARM = {"enabled": True, "interval": "1s", "kinds": ["pyspark"], "max_total": 2, "expire_after": "10m",
        # Sparkmagic (deploy/dev/e2e/kernel.py) sends heartbeatTimeoutInSecond 60.
        "body": {"heartbeatTimeoutInSecond": 60}}


@contextmanager
def warm_gateway(env, warm=None, log_name="livygate-warm"):
    """Yields the URL of a second gateway with warm sessions on."""
    def edit(cfg, _tmp):
        cfg["warm"] = dict(warm or WARM)
    with second_gateway(env, edit, log_name) as (url, _proc):
        yield url


def hub(env, method, path):
    token = Path(env["STACK_HUB_SERVICE_TOKEN_FILE"]).read_text().strip()
    return requests.request(method, f"{env['STACK_HUB_URL']}/hub/api{path}",
                            headers={"Authorization": "token " + token}, timeout=30)


def server_running(env, user):
    servers = hub(env, "GET", f"/users/{user}").json().get("servers") or {}
    return bool(servers.get("", {}).get("ready"))


def set_server(env, user, running, timeout=90):
    """Starts or stops user's notebook server and waits for it."""
    if running:
        r = hub(env, "POST", f"/users/{user}/server")
        if r.status_code not in (201, 202, 400):  # 400: already running
            raise RuntimeError(f"starting {user}'s server: {r.status_code} {r.text}")
    else:
        r = hub(env, "DELETE", f"/users/{user}/server")
        if r.status_code not in (202, 204):
            raise RuntimeError(f"stopping {user}'s server: {r.status_code} {r.text}")
    deadline = time.monotonic() + timeout
    while server_running(env, user) != running:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{user}'s server did not {'start' if running else 'stop'} in {timeout}s")
        time.sleep(1)


LIVE = ("not_started", "starting", "idle", "busy", "running", "recovering")


def livy_sessions(env, user=None):
    """Livy's own list, asked directly (live sessions only)."""
    r = requests.get(env["STACK_LIVY_URL"] + "/sessions", headers={"X-Requested-By": "warm"}, timeout=60)
    return [s for s in r.json()["sessions"] if s["state"] in LIVE and (user is None or s["proxyUser"] == user)]


def warm_session(env, user, state="idle", timeout=300, primed=True):
    """Waits for user's warm session in Livy to reach state, and (primed)
    for its warm-up statement (warm.prime) to have run; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        for s in livy_sessions(env, user):
            if (s.get("name") or "").startswith(user + "~~warm-") and s["state"] == state:
                if not primed or warmed_up(env, s["id"]):
                    return s
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {state} warm session for {user} after {timeout}s: {livy_sessions(env)}")
        time.sleep(0.5)


def warmed_up(env, session_id):
    """Whether the session ran its warm-up statement to the end."""
    r = requests.get(f"{env['STACK_LIVY_URL']}/sessions/{session_id}/statements",
                     headers={"X-Requested-By": "warm"}, timeout=60)
    sts = r.json().get("statements") or []
    return bool(sts) and all(st["state"] == "available" for st in sts)


def wait_no_sessions(env, user=None, timeout=180):
    deadline = time.monotonic() + timeout
    while livy_sessions(env, user):
        if time.monotonic() > deadline:
            raise RuntimeError(f"sessions still live after {timeout}s: {livy_sessions(env, user)}")
        time.sleep(1)
