"""Spark on YARN through the gateway: the applications YARN runs for alice
are alice's, as the ResourceManager itself reports them.

Runs only against a stack started with DEV_SPARK_MASTER=yarn (deploy/dev/
yarn/yarn.sh: a real ResourceManager + NodeManager on the stack's HDFS,
livy.spark.master = yarn). Marked `yarn`: pytest.ini deselects these tests
by default; `make test-e2e` runs them with `-m yarn` after restarting the
stack on YARN. Selected against a stack in local mode they fail, never skip.

alice creates a pyspark session and a batch through the gateway, with her
LDAP password, both at once (one stack, one session, one batch keeps the CI
cost small). The ResourceManager's REST API (GET /ws/v1/cluster/apps) must
name alice as the user of both applications, not Livy's OS user; a
statement in the session runs Python on a YARN executor.
"""

import os
import time
import uuid

import pytest
import requests

pytestmark = pytest.mark.yarn

BATCH = '''
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
sc = spark.sparkContext
print("YARN BATCH", spark.range(1000).count(), sc.sparkUser(), sc.applicationId, sc.master)
spark.stop()
'''

STATEMENT = ("sc = spark.sparkContext\n"
             "print(spark.range(1000).count(), sc.sparkUser(), sc.master, sc.applicationId,"
             " sc.parallelize(range(10), 2).map(lambda x: x * x).sum())")

TIMEOUT = int(os.environ.get("E2E_YARN_TIMEOUT", "420"))


@pytest.fixture(scope="module")
def rm(stack):
    """The ResourceManager's web address; fails (never skips) off YARN."""
    master = stack.env.get("STACK_SPARK_MASTER", "")
    url = stack.env.get("STACK_YARN_RM_URL", "")
    if master != "yarn" or not url:
        pytest.fail(f"the stack runs Spark on {master or 'an unknown master'!r}, not YARN: start it with "
                    "DEV_SPARK_MASTER=yarn deploy/dev/stack.sh start (make test-e2e does)", pytrace=False)
    info = requests.get(url + "/ws/v1/cluster/info", timeout=30)
    assert info.status_code == 200, info.text
    assert info.json()["clusterInfo"]["state"] == "STARTED"
    livy = stack.livy_direct("GET", "/version")
    assert livy.status_code == 200, livy.text
    return url


def rm_app(rm, app_id):
    r = requests.get(f"{rm}/ws/v1/cluster/apps/{app_id}", timeout=30)
    assert r.status_code == 200, f"ResourceManager has no {app_id}: {r.status_code} {r.text[:300]}"
    return r.json()["app"]


def wait_for(stack, path, want, dead, what, timeout=TIMEOUT):
    deadline = time.time() + timeout
    state = None
    while time.time() < deadline:
        r = stack.call("alice", "GET", path)
        assert r.status_code == 200, r.text
        body = r.json()
        state = body["state"]
        if state in want:
            return body
        if state in dead:
            log = stack.call("alice", "GET", path + "/log?from=0&size=200").json().get("log", [])
            pytest.fail(f"{what} ended {state}:\n" + "\n".join(log[-60:]))
        time.sleep(2)
    pytest.fail(f"{what} still {state} after {timeout}s")


@pytest.fixture(scope="module")
def alices_apps(stack, rm, tmp_path_factory):
    """alice's pyspark session and batch, created through the gateway at once.
    Yields them once the session is idle and the batch has finished."""
    job = tmp_path_factory.mktemp("yarn") / "yarn_batch.py"
    job.write_text(BATCH)
    remote = f"/user/alice/e2e-yarn-{uuid.uuid4().hex[:8]}.py"
    put = stack.fs("-put", "-f", str(job), remote, user="alice")
    assert put.returncode == 0, put.stderr

    t0 = time.time()
    s = stack.call("alice", "POST", "/sessions", json={"kind": "pyspark", "name": "e2e-yarn-" + uuid.uuid4().hex[:6]})
    assert s.status_code == 201, s.text
    session = s.json()
    b = stack.call("alice", "POST", "/batches", json={"file": "hdfs://" + remote, "name": "e2e-yarn-" + remote[-11:-3]})
    assert b.status_code == 201, b.text
    batch = b.json()
    assert session["proxyUser"] == "alice" and batch["proxyUser"] == "alice"
    try:
        session = wait_for(stack, f"/sessions/{session['id']}", {"idle"},
                           {"dead", "error", "killed", "shutting_down", "success"}, "alice's YARN session")
        session["idle_after_s"] = round(time.time() - t0, 1)
        batch = wait_for(stack, f"/batches/{batch['id']}", {"success"}, {"dead", "error", "killed"},
                         "alice's YARN batch")
        batch["done_after_s"] = round(time.time() - t0, 1)
        yield {"session": session, "batch": batch}
    finally:
        stack.call("alice", "DELETE", f"/sessions/{session['id']}")
        stack.call("alice", "DELETE", f"/batches/{batch['id']}")
        stack.fs("-rm", "-f", remote, user="alice")


def alices_spark_app(rm, obj):
    """The YARN application Livy names for a session or batch, checked to be
    a Spark application that runs as alice: (its id, the RM's record)."""
    app_id = obj.get("appId")
    assert app_id and app_id.startswith("application_"), f"Livy names no YARN application: {obj}"
    app = rm_app(rm, app_id)
    assert app["user"] == "alice", f"YARN runs {app_id} as {app['user']!r}: {app}"
    assert app["applicationType"] == "SPARK"
    return app_id, app


def test_session_is_a_yarn_application_of_alice(stack, rm, alices_apps):
    session = alices_apps["session"]
    app_id, app = alices_spark_app(rm, session)
    assert app["state"] == "RUNNING", app
    print(f"session {session['id']} idle after {session['idle_after_s']}s as YARN app {app_id}, user {app['user']}")


def test_statement_runs_on_yarn_as_alice(stack, rm, alices_apps):
    session = alices_apps["session"]
    t0 = time.time()
    r = stack.call("alice", "POST", f"/sessions/{session['id']}/statements", json={"code": STATEMENT})
    assert r.status_code == 201, r.text
    path = f"/sessions/{session['id']}/statements/{r.json()['id']}"
    deadline = time.time() + 180
    while True:
        st = stack.call("alice", "GET", path).json()
        if st["state"] == "available":
            break
        assert st["state"] in ("waiting", "running"), st
        assert time.time() < deadline, f"statement still {st['state']} after 180s"
        time.sleep(1)
    out = st["output"]
    assert out["status"] == "ok", out
    count, user, master, app_id, squares = out["data"]["text/plain"].split()
    # The count, the Python lambda on the YARN executor, the user Spark runs
    # as, and the application: the one the ResourceManager says is alice's.
    assert (count, user, master, squares) == ("1000", "alice", "yarn", "285")
    assert app_id == session["appId"]
    assert rm_app(rm, app_id)["user"] == "alice"
    print(f"statement on YARN in {time.time() - t0:.1f}s: {out['data']['text/plain']}")


def test_batch_is_a_yarn_application_of_alice(stack, rm, alices_apps):
    batch = alices_apps["batch"]
    app_id, app = alices_spark_app(rm, batch)
    assert app["finalStatus"] == "SUCCEEDED", app
    log = stack.call("alice", "GET", f"/batches/{batch['id']}/log?from=0&size=1000").json()["log"]
    lines = [line.strip() for line in log if "YARN BATCH" in line]
    assert lines == [f"YARN BATCH 1000 alice {app_id} yarn"], log[-40:]
    print(f"batch {batch['id']} succeeded after {batch['done_after_s']}s as YARN app {app_id}, user {app['user']}")


def test_no_yarn_application_runs_as_livys_user(stack, rm, alices_apps):
    """Every application this stack's YARN has seen belongs to a demo user:
    none fell back to the OS user Livy runs as (the seed complaint)."""
    r = requests.get(rm + "/ws/v1/cluster/apps", timeout=30)
    assert r.status_code == 200, r.text
    apps = (r.json().get("apps") or {}).get("app") or []
    ours = {alices_apps["session"]["appId"], alices_apps["batch"]["appId"]}
    assert ours <= {a["id"] for a in apps}
    demo = set(stack.env["STACK_DEMO_USERS"].split())
    assert {a["user"] for a in apps} <= demo, [(a["id"], a["user"]) for a in apps]
    assert {a["user"] for a in apps if a["id"] in ours} == {"alice"}
