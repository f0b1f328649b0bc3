"""livygate end to end: the real gateway in front of the real Livy, Spark,
HDFS, OpenLDAP and JupyterHub of deploy/dev/stack.sh, driven over HTTP and
by the real Sparkmagic kernel.

Livy here is 0.9.0-incubating (built from source by deploy/dev/livy/livy.sh).
This file covers batches, refusals and Livy 0.9's own API; the notebook
experience with interactive sessions is test_notebook_e2e.py.
"""

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from kernel import SparkmagicKernel

REPO = Path(__file__).resolve().parents[3]

JOB = '''
import sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
n = spark.range(1000).count()
spark.createDataFrame([(n,)], ["n"]).write.mode("overwrite").csv(sys.argv[1])
print("E2E COUNT", n, "AS", spark.sparkContext.sparkUser())
spark.stop()
'''


def wait_state(stack, user, batch_id, done=("success", "dead", "killed"), timeout=300):
    deadline = time.time() + timeout
    state = None
    while time.time() < deadline:
        r = stack.call(user, "GET", f"/batches/{batch_id}/state")
        assert r.status_code == 200, r.text
        state = r.json()["state"]
        if state in done:
            return state
        time.sleep(2)
    pytest.fail(f"batch {batch_id} still {state} after {timeout}s")


@pytest.fixture(scope="module")
def alices_batch(stack, tmp_path_factory):
    """alice's batch, submitted with every identity spoof a client could try."""
    job = tmp_path_factory.mktemp("job") / "job.py"
    job.write_text(JOB)
    out = f"/user/alice/e2e-{uuid.uuid4().hex[:8]}"
    put = stack.fs("-put", "-f", str(job), "/user/alice/e2e-job.py", user="alice")
    assert put.returncode == 0, put.stderr
    r = stack.call("alice", "POST", "/batches?doAs=bob&user.name=bob",
                   json={"file": "hdfs:///user/alice/e2e-job.py", "args": ["hdfs://" + out], "name": "e2e-" + out[-8:]},
                   headers={"X-Forwarded-User": "bob", "Remote-User": "bob", "X-Remote-User": "bob"})
    assert r.status_code == 201, r.text
    batch = r.json()
    assert batch["proxyUser"] == "alice"
    state = wait_state(stack, "alice", batch["id"])
    return {"id": batch["id"], "name": batch["name"], "out": out, "state": state}


def test_batch_runs_as_the_caller_on_hdfs(stack, alices_batch):
    assert alices_batch["state"] == "success"
    # What Livy itself recorded, asked directly.
    direct = stack.livy_direct("GET", f"/batches/{alices_batch['id']}").json()
    assert direct["proxyUser"] == "alice"
    log = stack.call("alice", "GET", f"/batches/{alices_batch['id']}/log?from=0&size=200").json()["log"]
    assert any("E2E COUNT 1000 AS alice" in line for line in log), log
    # The proof of impersonation: the real hadoop CLI says alice owns the output.
    st = stack.fs("-stat", "%u", alices_batch["out"] + "/_SUCCESS")
    assert st.returncode == 0, st.stderr
    assert st.stdout.strip() == "alice"


def test_other_users_cannot_see_or_touch_the_batch(stack, alices_batch):
    bid = alices_batch["id"]
    for ref in (str(bid), alices_batch["name"]):
        for method, path in (("GET", ""), ("GET", "/state"), ("GET", "/log"), ("DELETE", "")):
            r = stack.call("bob", method, f"/batches/{ref}{path}")
            assert r.status_code == 404, (method, path, r.text)
            assert r.json() == {"msg": f"Session '{ref}' not found."}
    listing = stack.call("bob", "GET", "/batches").json()
    assert all(b["proxyUser"] == "bob" for b in listing["sessions"])
    assert listing["total"] == len(listing["sessions"])
    assert stack.livy_direct("GET", f"/batches/{bid}").status_code == 200, "bob deleted alice's batch"
    # bob cannot read alice's output on HDFS either.
    cat = stack.fs("-cat", alices_batch["out"] + "/_SUCCESS", user="bob")
    assert cat.returncode != 0 and "Permission denied" in cat.stderr


def test_admin_sees_every_users_batches(stack, alices_batch):
    r = stack.call("bob", "POST", "/batches", json={"file": "hdfs:///user/bob/none.py"})
    assert r.status_code == 201, r.text
    bobs = r.json()["id"]
    try:
        owners = {b["proxyUser"] for b in stack.call("carol", "GET", "/batches").json()["sessions"]}
        assert {"alice", "bob"} <= owners
        mine = stack.call("alice", "GET", "/batches").json()["sessions"]
        assert {b["proxyUser"] for b in mine} == {"alice"}
    finally:
        assert stack.call("bob", "DELETE", f"/batches/{bobs}").status_code == 200


def test_refusals_create_nothing_in_livy(stack):
    before = stack.livy_direct("GET", "/batches").json()["total"]
    cases = [
        ({"file": "hdfs:///x.py", "proxyUser": "bob"}, 403, "bob"),
        ({"file": "hdfs:///x.py", "conf": {"spark.yarn.appMasterEnv.HADOOP_USER_NAME": "bob"}}, 400, "HADOOP_USER_NAME"),
        ({"file": "hdfs:///x.py", "conf": {"spark.driver.extraJavaOptions": "-DHADOOP_USER_NAME=bob"}}, 400, "extraJavaOptions"),
        ({"file": "hdfs:///x.py", "conf": {"spark.kerberos.keytab": "/etc/hdfs.keytab"}}, 400, "spark.kerberos.keytab"),
        ({"className": "Main"}, 400, "file"),
    ]
    for body, status, word in cases:
        r = stack.call("alice", "POST", "/batches", json=body)
        assert r.status_code == status, (body, r.text)
        assert word in r.json()["msg"]
    assert stack.livy_direct("GET", "/batches").json()["total"] == before
    wrong = stack.call(None, "GET", "/batches", auth=("alice", "not-her-password"))
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Basic")
    assert stack.call("alice", "GET", "/ui").status_code == 403
    assert stack.call("carol", "GET", "/version").status_code == 200


def test_livy_09_create_fields_and_refusals_pass_unchanged(stack):
    """ttl and idleTimeout reach Livy 0.9 as sent; its own "Rejected, Reason:"
    refusal reaches the client exactly as Livy words it."""
    bad = {"kind": "pyspark", "ttl": "not-a-duration"}
    direct = stack.livy_direct("POST", "/sessions", json=bad)
    via = stack.call("alice", "POST", "/sessions", json=bad)
    assert direct.status_code == 400 and direct.json()["msg"].startswith("Rejected, Reason:"), direct.text
    assert (via.status_code, via.json()) == (400, direct.json())
    r = stack.call("alice", "POST", "/sessions", json={"kind": "pyspark", "ttl": "20m", "idleTimeout": "10m"})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    try:
        seen = stack.livy_direct("GET", f"/sessions/{sid}").json()
        assert (seen["ttl"], seen["idleTimeout"], seen["proxyUser"]) == ("20m", "10m", "alice")
    finally:
        assert stack.call("alice", "DELETE", f"/sessions/{sid}").status_code == 200


# --- the real Sparkmagic kernel ------------------------------------------------

def test_sparkmagic_logs_in_with_the_notebook_hub_token(stack):
    """The kernel sends its JUPYTERHUB_API_TOKEN (deploy/sparkmagic/); the
    gateway asks the Hub whose it is: alice, whatever else the notebook says."""
    token = stack.hub_token_for("alice")
    auth = ("JupyterHubToken", "livygate_auth.JupyterHubToken")
    with SparkmagicKernel(stack.gateway, authenticator=auth, python_path=[str(REPO / "deploy/sparkmagic")],
                          env={"JUPYTERHUB_API_TOKEN": token, "JUPYTERHUB_USER": "bob"},
                          custom_headers={"X-Requested-By": "sparkmagic"}, cell_timeout=240) as k:
        info = k.info()
        assert not info.failed, info.text
        k.configure({"proxyUser": "bob"})
        r = k.execute("1 + 1")
    assert "403" in r.text and "alice" in r.text, r.text
    with SparkmagicKernel(stack.gateway, authenticator=auth, python_path=[str(REPO / "deploy/sparkmagic")],
                          env={"JUPYTERHUB_API_TOKEN": "forged-" + token[:8]},
                          custom_headers={"X-Requested-By": "sparkmagic"}, cell_timeout=240) as k:
        r = k.execute("1 + 1")
    assert "401" in r.text, r.text


# --- last: needs Livy restarted with impersonation off --------------------------

def test_zz_impersonation_off_is_caught_and_undone(stack, livy_without_impersonation):
    r = stack.call("alice", "POST", "/batches", json={"file": "hdfs:///user/alice/e2e-job.py", "args": ["hdfs:///tmp/x"]})
    assert r.status_code == 502, r.text
    assert "livy.impersonation.enabled=true" in r.json()["msg"]
    assert "deleted" in r.json()["msg"]
    assert stack.livy_direct("GET", "/batches").json()["total"] == 0


@pytest.fixture
def livy_without_impersonation(stack):
    livy = str(REPO / "deploy/dev/livy/livy.sh")
    for b in stack.livy_direct("GET", "/batches").json()["sessions"]:
        stack.livy_direct("DELETE", f"/batches/{b['id']}")
    subprocess.run(["bash", livy, "stop"], check=True, capture_output=True)
    subprocess.run(["bash", livy, "start"], check=True, capture_output=True,
                   env={**os.environ, "LIVY_IMPERSONATION": "false"})
    yield
    subprocess.run(["bash", livy, "stop"], check=True, capture_output=True)
    subprocess.run(["bash", livy, "start"], check=True, capture_output=True)
