"""The dev JupyterHub's API behaves as livygate's Hub client expects.

Starts its own Hub instance (`jupyterhub-test`, free port, api_page_max_limit=2)
with deploy/dev/jupyterhub/hub.sh beside any `make dev` Hub, checks pagination,
user and token creation, token -> user, and refusals, then stops it.

    .cache/dev/py/bin/python -m pytest -q deploy/dev/harness/test_hub_dev.py
"""

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
HUB_SH = REPO / "deploy" / "dev" / "jupyterhub" / "hub.sh"
INSTANCE = "jupyterhub-test"
PAGE = "application/jupyterhub-pagination+json"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def hub():
    port = free_port()
    env = dict(os.environ, DEV_HUB_INSTANCE=INSTANCE, DEV_HUB_PORT=str(port),
               DEV_HUB_PAGE_MAX_LIMIT="2")
    out = subprocess.run(["bash", str(HUB_SH), "env"], env=env, check=True,
                         capture_output=True, text=True).stdout
    info = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    state = Path(info["DEV_HUB_SERVICE_TOKEN_FILE"]).parent
    shutil.rmtree(state, ignore_errors=True)  # fresh database every run
    subprocess.run(["bash", str(HUB_SH), "start"], env=env, check=True)
    try:
        token = Path(info["DEV_HUB_SERVICE_TOKEN_FILE"]).read_text().strip()
        yield {"api": info["DEV_HUB_API_URL"], "token": token, "log": info["DEV_HUB_LOG"],
               "token_file": info["DEV_HUB_SERVICE_TOKEN_FILE"]}
    finally:
        subprocess.run(["bash", str(HUB_SH), "stop"], env=env, check=False)
        shutil.rmtree(state, ignore_errors=True)


def svc(hub):
    return {"Authorization": "token " + hub["token"]}


def test_binds_loopback_and_token_file_is_private(hub):
    assert hub["api"].startswith("http://127.0.0.1:")
    assert oct(os.stat(hub["token_file"]).st_mode & 0o777) == "0o600"
    assert requests.get(hub["api"] + "/", timeout=10).json()["version"].startswith("5.")


def test_pagination_follows_next(hub):
    h = svc(hub)
    # without the header: a plain list, silently cut at api_page_max_limit
    plain = requests.get(hub["api"] + "/users", headers=h, timeout=10)
    assert plain.status_code == 200
    assert isinstance(plain.json(), list) and len(plain.json()) == 2

    r = requests.post(hub["api"] + "/users", headers=h, json={"usernames": ["Dave", "erin"]},
                      timeout=10)
    assert r.status_code == 201
    assert sorted(u["name"] for u in r.json()) == ["dave", "erin"]  # lower-cased

    names, url, pages = [], hub["api"] + "/users", 0
    while url:
        r = requests.get(url, headers=dict(h, Accept=PAGE), timeout=10)
        assert r.status_code == 200
        body = r.json()
        assert set(body) == {"items", "_pagination"}
        assert body["_pagination"]["limit"] == 2 and body["_pagination"]["total"] == 5
        names += [u["name"] for u in body["items"]]
        nxt = body["_pagination"]["next"]
        url = nxt["url"] if nxt else None
        pages += 1
    assert pages == 3
    assert sorted(names) == ["alice", "bob", "carol", "dave", "erin"]
    for name, admin in (("carol", True), ("alice", False), ("bob", False)):
        assert requests.get(hub["api"] + "/users/" + name, headers=h, timeout=10).json()["admin"] is admin


def test_user_token_says_who_it_is(hub):
    r = requests.post(hub["api"] + "/users/alice/tokens", headers=svc(hub),
                      json={"note": "e2e", "expires_in": 600}, timeout=10)
    assert r.status_code == 201, r.text
    tok = r.json()["token"]
    for scheme in ("token", "Bearer"):
        me = requests.get(hub["api"] + "/user", headers={"Authorization": scheme + " " + tok},
                          timeout=10)
        assert me.status_code == 200
        assert me.json()["name"] == "alice" and me.json()["admin"] is False
        assert me.json()["groups"] == []
    # a user token cannot list users
    r = requests.get(hub["api"] + "/users", headers={"Authorization": "token " + tok}, timeout=10)
    assert r.status_code == 403
    assert "list:users" in r.json()["message"]


def test_bad_or_missing_token_is_403(hub):
    for headers in ({"Authorization": "token not-a-token"}, {}):
        r = requests.get(hub["api"] + "/user", headers=headers, timeout=10)
        assert r.status_code == 403
        assert r.json() == {"status": 403, "message": "Forbidden"}
    r = requests.get(hub["api"] + "/users", headers={"Authorization": "token nope"}, timeout=10)
    assert r.status_code == 403
    assert r.json()["message"] == "Missing or invalid credentials."
