"""A second livygate on the dev stack with warm sessions on (warm: in the
README): the stack's configuration with its own port, store and log, so the
stack's own gateway keeps warm sessions off. Used by the warm e2e test and
the `warm` part of `make bench`.
"""

import os
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests
import yaml

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("DEV_CACHE") or REPO / ".cache" / "dev")
WARM = {"enabled": True, "interval": "1s", "kinds": ["pyspark"], "max_total": 2, "expire_after": "10m",
        # Sparkmagic (deploy/dev/e2e/kernel.py) sends heartbeatTimeoutInSecond 60.
        "body": {"heartbeatTimeoutInSecond": 60}}


def load_env():
    env = {}
    for line in (CACHE / "stack.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            env[k] = v.strip('"')
    return env


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def warm_gateway(env, warm=None, log_name="livygate-warm"):
    """Yields the URL of a second gateway with warm sessions on."""
    cfg = yaml.safe_load(Path(env["STACK_GATEWAY_CONFIG"]).read_text())
    port = _free_port()
    tmp = Path(tempfile.mkdtemp(prefix="livygate-warm-"))
    cfg["listen"]["address"] = f"127.0.0.1:{port}"
    cfg["store"] = {"path": str(tmp / "livygate.db")}
    cfg["warm"] = dict(warm or WARM)
    path = tmp / "livygate.yaml"
    path.write_text(yaml.safe_dump(cfg))
    log = open(CACHE / "logs" / f"{log_name}.log", "ab")
    proc = subprocess.Popen([str(REPO / "bin" / "livygate"), "serve", "--config", str(path)],
                            env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")},
                            stdout=log, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the warm gateway exited; see {log.name}")
            try:
                if requests.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the warm gateway did not become ready; see {log.name}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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


def warm_session(env, user, state="idle", timeout=300):
    """Waits for user's warm session in Livy to reach state; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        for s in livy_sessions(env, user):
            if (s.get("name") or "").startswith(user + "~~warm-") and s["state"] == state:
                return s
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {state} warm session for {user} after {timeout}s: {livy_sessions(env)}")
        time.sleep(0.5)


def wait_no_sessions(env, user=None, timeout=180):
    deadline = time.monotonic() + timeout
    while livy_sessions(env, user):
        if time.monotonic() > deadline:
            raise RuntimeError(f"sessions still live after {timeout}s: {livy_sessions(env, user)}")
        time.sleep(1)
