"""Notebook users run Spark through livygate: the real Sparkmagic kernels
(pysparkkernel, sparkkernel) against the gateway, in front of Livy 0.9 with
real Spark sessions, HDFS and OpenLDAP (deploy/dev/stack.sh).

Assertions are on what the user sees in the cell, and on what Livy, HDFS and
the gateway's answers say independently (Livy asked directly, the real
`hadoop fs` CLI). Tests run in file order and share alice's pyspark kernel
(one Spark session); the admin's kill comes last.
"""

import hashlib
import re
import uuid
from pathlib import Path

import jwt
import pytest
import requests

from kernel import SparkmagicKernel

SECRET_KEY = "spark.myapp.db.conn"  # a key the masking pattern does not match
RUN = uuid.uuid4().hex[:8]
OUT = f"/user/alice/e2e-nb-{RUN}"


def kernel(stack, user, kind="pysparkkernel", **kw):
    return SparkmagicKernel(stack.gateway, username=user, password=stack.passwords[user], kernel_name=kind,
                            custom_headers={"X-Requested-By": "sparkmagic"}, cell_timeout=300, **kw)


def live_sessions(stack, user=None):
    """Livy's own list, asked directly: the sessions that exist, whoever asks."""
    sessions = stack.livy_direct("GET", "/sessions").json()["sessions"]
    return [s for s in sessions if user is None or s["proxyUser"] == user]


def stdout_of(result):
    assert result.ok, result.summary()
    return result.stdout


@pytest.fixture(scope="module")
def alice(stack):
    """alice's pyspark kernel; its session's conf carries a secret reference."""
    before = {s["id"] for s in live_sessions(stack)}
    k = kernel(stack, "alice", config={"use_auto_viz": False})
    k.start()
    try:
        r = k.configure({"conf": {SECRET_KEY: "secret@demo-db-password"}})
        assert r.ok, r.summary()
        out = stdout_of(k.execute("print(spark.range(1000).count(), spark.sparkContext.sparkUser())"))
        new = [s for s in live_sessions(stack) if s["id"] not in before]
        assert len(new) == 1, new
        k.session = new[0]
        k.first_output = out
        yield k
    finally:
        k.shutdown()
    assert all(s["id"] != k.session["id"] or s["state"] in ("dead", "killed", "shutting_down")
               for s in live_sessions(stack)), "alice's kernel left its session behind"


def test_pyspark_cell_counts_as_alice(stack, alice):
    # The first cell also prints Sparkmagic's "Starting Spark application" lines.
    assert alice.first_output.strip().splitlines()[-1].split() == ["1000", "alice"], alice.first_output
    direct = stack.livy_direct("GET", f"/sessions/{alice.session['id']}").json()
    assert direct["proxyUser"] == "alice" and direct["kind"] == "pyspark"


def test_cell_writes_to_hdfs_as_alice(stack, alice):
    stdout_of(alice.execute(f'spark.range(10).write.mode("overwrite").parquet("hdfs://{OUT}")'))
    st = stack.fs("-stat", "%u", OUT + "/_SUCCESS")
    assert st.returncode == 0, st.stderr
    assert st.stdout.strip() == "alice"


def test_sql_cell(stack, alice):
    r = alice.execute("%%sql\nSELECT count(*) AS n FROM range(1000)")
    assert r.ok, r.summary()
    assert "1000" in r.text, r.summary()


def test_token_and_secret_reach_the_cell_but_no_answer(stack, alice):
    code = (
        "import hashlib\n"
        f"v = spark.conf.get('{SECRET_KEY}')\n"
        "p = spark.conf.get('spark.livygate.token.path')\n"
        "t = spark.sparkContext.textFile(p).first().strip()\n"
        # The path itself is masked in answers (its conf key names a token).
        "print(hashlib.sha256(v.encode()).hexdigest(), p.endswith('/user/alice/.livygate/token'),"
        " hashlib.sha256(t.encode()).hexdigest())\n"
    )
    secret_sha, path_ok, token_sha = stdout_of(alice.execute(code)).split()
    secret = (Path(stack.env["STACK_SECRETS_DIR"]) / "demo-db-password").read_text().strip()
    assert secret_sha == hashlib.sha256(secret.encode()).hexdigest()
    assert path_ok == "True"
    cat = stack.fs("-cat", "/user/alice/.livygate/token")
    assert cat.returncode == 0, cat.stderr
    token = cat.stdout.strip()
    assert token_sha == hashlib.sha256(token.encode()).hexdigest()
    jwks = jwt.PyJWKClient(stack.gateway + "/.well-known/jwks.json")
    claims = jwt.decode(token, jwks.get_signing_key_from_jwt(token).key, algorithms=["RS256"],
                        audience="s3-proxy")
    assert claims["sub"] == "alice"
    # Echoing the secret in a cell shows the reference, never the value.
    echoed = alice.execute(f"print(spark.conf.get('{SECRET_KEY}'))")
    assert secret not in echoed.text
    logs = alice.logs()
    assert logs.ok, logs.summary()
    assert secret not in logs.text and token not in logs.text
    conf = stack.call("alice", "GET", f"/sessions/{alice.session['id']}").json()["conf"]
    assert conf[SECRET_KEY] == "secret@demo-db-password"


def test_bob_is_kept_out_of_alices_session(stack, alice):
    sid = alice.session["id"]
    not_found = {"msg": f"Session '{sid}' not found."}
    calls = [
        ("GET", ""), ("GET", "/state"), ("GET", "/log"), ("GET", "/statements"), ("GET", "/statements/0"),
        ("POST", "/statements", {"code": "print(1)"}), ("POST", "/completion", {"code": "spa", "kind": "pyspark", "cursor": 3}),
        ("POST", "/statements/0/cancel", {}), ("DELETE", ""),
    ]
    for method, path, *body in calls:
        r = stack.call("bob", method, f"/sessions/{sid}{path}", json=body[0] if body else None)
        assert r.status_code == 404 and r.json() == not_found, (method, path, r.status_code, r.text)
    with kernel(stack, "bob") as bob:
        info = bob.info()
        assert info.ok, info.summary()
        assert "alice" not in info.text, info.summary()
        read = bob.execute(f'spark.read.parquet("hdfs://{OUT}").count()')
        assert read.failed and "Permission denied" in read.text, read.summary()
        cleanup = bob.cleanup()
        assert cleanup.ok, cleanup.summary()
    assert stack.livy_direct("GET", f"/sessions/{sid}").json()["state"] in ("idle", "busy")
    assert stdout_of(alice.execute("print(21 * 2)")).strip() == "42"


def test_refused_requests_start_nothing(stack):
    before = {s["id"] for s in live_sessions(stack)}
    with kernel(stack, "alice") as k:
        k.configure({"proxyUser": "bob"})
        r = k.execute("spark.range(10).count()")
        assert "403" in r.text and "bob" in r.text and "alice" in r.text, r.summary()
        k.restart()  # sparkmagic's failed create is sticky
        k.configure({"conf": {"spark.yarn.appMasterEnv.HADOOP_USER_NAME": "hdfs"}})
        r = k.execute("spark.range(10).count()")
        assert "400" in r.text and "HADOOP_USER_NAME" in r.text, r.summary()
    assert {s["id"] for s in live_sessions(stack)} <= before


def test_scala_cell_counts_as_alice(stack):
    with kernel(stack, "alice", kind="sparkkernel") as k:
        r = k.execute("spark.range(1000).count()")
        assert r.ok and re.search(r"\b1000\b", r.text), r.summary()
        r = k.execute("spark.sparkContext.sparkUser")
        assert r.ok and "alice" in r.text, r.summary()
        scala = [s for s in live_sessions(stack, "alice") if s["kind"] == "spark"]
        assert len(scala) == 1, scala


def test_zz_admin_sees_both_users_and_kills_alices_session(stack, alice):
    sid = alice.session["id"]
    with kernel(stack, "bob") as bob:
        stdout_of(bob.execute("print(1)"))
        owners = {s["proxyUser"] for s in stack.call("carol", "GET", "/sessions").json()["sessions"]}
        assert {"alice", "bob"} <= owners
        assert {s["proxyUser"] for s in stack.call("alice", "GET", "/sessions").json()["sessions"]} == {"alice"}
    # The admin UI's kill: the confirmation page's form, posted back with its CSRF token.
    ui = requests.Session()
    ui.auth = ("carol", stack.passwords["carol"])
    page = ui.get(f"{stack.gateway}/admin/ui/sessions/sessions/{sid}/kill", timeout=30)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    done = ui.post(f"{stack.gateway}/admin/ui/sessions/sessions/{sid}/kill", data={"csrf": csrf}, timeout=60)
    assert done.status_code in (200, 303), done.text
    assert stack.livy_direct("GET", f"/sessions/{sid}").status_code == 404
    r = alice.execute("print(1)")
    assert r.failed and str(sid) in r.text, r.summary()
