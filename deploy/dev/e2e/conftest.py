"""Shared fixtures for the end-to-end tests against the dev stack.

The stack (deploy/dev/stack.sh start) must be up: its env file names every
endpoint and the demo credentials. A failing test gets the tail of each
component's log attached to its report.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "deploy" / "dev"))
from gateway2 import free_port, second_gateway  # noqa: E402,F401 (for the tests)
CACHE = Path(os.environ.get("DEV_CACHE", REPO / ".cache" / "dev"))
LOGS = ["livygate", "livygate-governance", "livygate-faults", "livygate-warm", "livy", "hdfs", "yarn", "jupyterhub", "ldap"]
# Only in the HA stack (DEV_HA=1), like yarn only on YARN.
OPTIONAL_LOGS = {"yarn", "livygate2", "livy2", "postgres"}
LOGS += ["livygate2", "livy2", "postgres"]


def load_stack_env():
    path = CACHE / "stack.env"
    if not path.exists():
        pytest.fail(f"{path} is missing: start the stack with deploy/dev/stack.sh start", pytrace=False)
    env = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            env[k] = v.strip('"')
    return env


def wait_until(what, check, timeout, step=2.0):
    deadline = time.time() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.time() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


@pytest.fixture(scope="session")
def stack():
    return Stack(load_stack_env())


class Stack:
    """The running stack: the gateway as each demo user, Livy directly (as
    only an operator could), and the real `hadoop fs` CLI."""

    def __init__(self, env):
        self.env = env
        self.gateway = env["STACK_GATEWAY_URL"]
        self.livy = env["STACK_LIVY_URL"]
        self.hub = env["STACK_HUB_URL"]
        self.passwords = {u: env[f"STACK_{u.upper()}_PASSWORD"] for u in ("alice", "bob", "carol")}

    def call(self, user, method, path, json=None, headers=None, auth=None, timeout=60):
        h = {"X-Requested-By": "e2e"}
        h.update(headers or {})
        if auth is None and user:
            auth = (user, self.passwords[user])
        return requests.request(method, self.gateway + path, json=json, headers=h, auth=auth, timeout=timeout)

    def livy_direct(self, method, path, **kw):
        kw.setdefault("headers", {"X-Requested-By": "e2e"})
        return requests.request(method, self.livy + path, timeout=60, **kw)

    def fs(self, *args, user=None):
        """The real `hadoop fs` CLI, as the HDFS superuser or as user."""
        env = dict(os.environ)
        if user:
            env["HADOOP_USER_NAME"] = user
        return subprocess.run(["bash", str(REPO / "deploy/dev/hdfs/fs.sh"), *args],
                              env=env, capture_output=True, text=True, timeout=120)

    def hub_token_for(self, user):
        """A fresh JupyterHub API token for user, made with the service token."""
        svc = Path(self.env["STACK_HUB_SERVICE_TOKEN_FILE"]).read_text().strip()
        r = requests.post(f"{self.hub}/hub/api/users/{user}/tokens", json={"note": "e2e"},
                          headers={"Authorization": "token " + svc}, timeout=30)
        r.raise_for_status()
        return r.json()["token"]


def _tail(path, n=40):
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError as e:
        return f"(cannot read {path}: {e})"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for name in LOGS:
            path = CACHE / "logs" / f"{name}.log"
            if name in OPTIONAL_LOGS and not path.exists():
                continue
            report.sections.append((f"tail of {path}", _tail(path)))
