"""A second livygate on the dev stack: the stack's own configuration, edited
by the caller, with its own port, store and log, so the stack's gateway is
left as it is. The e2e tests (governance, faults, warm) and the `warm` part
of `make bench` start one each.
"""

import os
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests
import yaml

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("DEV_CACHE") or REPO / ".cache" / "dev")


def load_env():
    """The running stack's env file (deploy/dev/stack.sh start writes it)."""
    env = {}
    for line in (CACHE / "stack.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            env[k] = v.strip('"')
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def second_gateway(env, edit, log_name, stop_timeout=30):
    """Yields (url, process) of a gateway serving the stack's configuration
    after edit(cfg, tmp) changed it; it is stopped with SIGTERM on exit (killed
    after stop_timeout, so a caller can check process.returncode)."""
    cfg = yaml.safe_load(Path(env["STACK_GATEWAY_CONFIG"]).read_text())
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix=f"{log_name}-"))
    cfg["listen"]["address"] = f"127.0.0.1:{port}"
    cfg["store"] = {"path": str(tmp / "livygate.db")}
    edit(cfg, tmp)
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
                raise RuntimeError(f"the gateway {log_name} exited; see {log.name}")
            try:
                if requests.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the gateway {log_name} did not become ready; see {log.name}")
            time.sleep(0.3)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
