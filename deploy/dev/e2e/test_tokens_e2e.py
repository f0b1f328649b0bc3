"""Tokens and secret references end to end, on the dev stack.

The gateway runs with tokens on (RS256 signing; RS512, ES256 and EdDSA keys
published as verify-only), hdfs-file delivery and a secrets directory (see
deploy/dev/stack.sh). Tokens are verified by an independent implementation
(PyJWT) from the live JWKS; Spark batches running as alice and bob read the
delivered token file and a resolved secret from inside Spark.
"""

import base64
import json
import os
import stat
import subprocess
import time
import uuid
from pathlib import Path

import jwt
import pytest
import requests

from test_stack_e2e import wait_state

REPO = Path(__file__).resolve().parents[3]
LIVYGATE = REPO / "bin" / "livygate"
TOKEN_CONF = "spark.livygate.token.path"

READER_JOB = '''
import sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
conf = spark.sparkContext.getConf()
path = sys.argv[2] if len(sys.argv) > 2 else conf.get("spark.livygate.token.path")
try:
    token = "".join(spark.sparkContext.textFile(path).collect())
    result = "READ"
except Exception as e:
    token, result = "", "DENIED " + ("permission" if "Permission denied" in str(e) else type(e).__name__)
row = {"path": path, "token": token, "result": result,
       "secret": conf.get("spark.demo.db.password", ""), "user": spark.sparkContext.sparkUser()}
spark.createDataFrame([row]).coalesce(1).write.mode("overwrite").json(sys.argv[1])
spark.stop()
'''


@pytest.fixture(scope="module")
def jwks(stack):
    r = requests.get(stack.gateway + "/.well-known/jwks.json", timeout=30)
    assert r.status_code == 200, r.text
    assert "max-age" in r.headers.get("Cache-Control", "")
    return jwt.PyJWKSet.from_dict(r.json())


def verify(stack, jwks, token, alg=None):
    """PyJWT's verdict on a token, with the key the JWKS publishes for its kid."""
    header = jwt.get_unverified_header(token)
    if alg:
        assert header["alg"] == alg
    key = jwks[header["kid"]]
    return jwt.decode(token, key.key, algorithms=[header["alg"]], audience="s3-proxy", issuer=stack.gateway,
                      options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]})


def test_fetched_token_verifies_with_pyjwt(stack, jwks):
    r = stack.call("alice", "GET", "/token")
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    ans = r.json()
    claims = verify(stack, jwks, ans["token"], "RS256")
    assert claims["sub"] == "alice" and claims["preferred_username"] == "alice"
    assert "analysts" in claims["groups"] and "analysts" in claims["group_list"].split(" ")
    assert claims["exp"] - claims["iat"] == 24 * 3600
    assert ans["kid"] == jwt.get_unverified_header(ans["token"])["kid"]
    # The token logs in to the gateway itself.
    assert stack.call(None, "GET", "/batches", headers={"Authorization": "Bearer " + ans["token"]}).status_code == 200


def test_bob_cannot_mint_for_alice(stack):
    r = stack.call("bob", "GET", "/token?user=alice")
    assert r.status_code == 403, r.text


@pytest.mark.parametrize("alg", ["RS256", "RS512", "ES256", "EdDSA"])
def test_every_algorithm_verifies_with_pyjwt(stack, jwks, alg, tmp_path):
    """`livygate token mint` signs with each key; PyJWT checks each against
    the live gateway's JWKS."""
    keys = Path(stack.env["STACK_GATEWAY_KEYS_DIR"])
    cfg = tmp_path / "mint.yaml"
    cfg.write_text(f"""
auth: {{hub_token: {{enabled: true}}}}
jupyterhub: {{url: {stack.hub}, token: {{file: {stack.env["STACK_HUB_SERVICE_TOKEN_FILE"]}}}}}
store: {{path: ""}}  # not the system default under /var/lib …
ui: {{enabled: false}}  # … and so no admin UI
tokens:
  enabled: true
  issuer: {stack.gateway}
  audience: [s3-proxy]
  signing_key: {{file: {keys / (alg + '.pem')}, algorithm: {alg}}}
""")
    out = tmp_path / "token"
    p = subprocess.run([str(LIVYGATE), "token", "mint", "--config", str(cfg), "--user", "bob", "--groups", "analysts",
                        "--out", str(out)], capture_output=True, text=True, env={"PATH": os.environ["PATH"]}, timeout=60)
    assert p.returncode == 0, p.stderr
    token = out.read_text()
    assert token not in p.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    claims = verify(stack, jwks, token, alg)
    assert claims["sub"] == "bob" and claims["groups"] == ["analysts"]
    # Tampering breaks it for PyJWT too.
    head, payload, sig = token.split(".")
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "sub": "carol"}).encode()).decode().rstrip("=")
    with pytest.raises(jwt.InvalidSignatureError):
        verify(stack, jwks, f"{head}.{forged}.{sig}")


def run_fetch(*args, env=None):
    return subprocess.run([str(LIVYGATE), "token", "fetch", *args], capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], **(env or {})}, timeout=60)


def test_token_fetch_from_a_driver_node(stack, jwks, tmp_path):
    creds = tmp_path / "creds"
    creds.write_text(f"alice:{stack.passwords['alice']}\n")
    out = tmp_path / "alice.jwt"
    p = run_fetch("--gateway", stack.gateway, "--credentials", str(creds), "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert verify(stack, jwks, out.read_text())["sub"] == "alice"
    assert out.read_text() not in p.stderr + p.stdout

    # With the notebook's JupyterHub token instead of a password.
    hub_out = tmp_path / "hub.jwt"
    p = run_fetch("--gateway", stack.gateway, "--hub-token-env", "HUB_TOKEN", "--out", str(hub_out),
                  env={"HUB_TOKEN": stack.hub_token_for("bob")})
    assert p.returncode == 0, p.stderr
    assert verify(stack, jwks, hub_out.read_text())["sub"] == "bob"

    # Wrong password, and a gateway that is down: non-zero, one line, no file.
    creds.write_text("alice:wrong-password\n")
    for gateway in (stack.gateway, "http://127.0.0.1:9"):
        bad = tmp_path / f"bad-{uuid.uuid4().hex[:6]}"
        p = run_fetch("--gateway", gateway, "--credentials", str(creds), "--out", str(bad))
        assert p.returncode == 1, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1 and p.stderr.startswith("livygate: token fetch:")
        assert not bad.exists()
        assert not list(tmp_path.glob(".bad-*")), "a temporary file was left behind"


def submit(stack, user, args, conf=None):
    job = f"/user/{user}/e2e-token-reader.py"
    local = Path(os.environ.get("TMPDIR", "/tmp")) / f"e2e-token-reader-{user}.py"
    local.write_text(READER_JOB)
    put = stack.fs("-put", "-f", str(local), job, user=user)
    assert put.returncode == 0, put.stderr
    r = stack.call(user, "POST", "/batches", json={"file": "hdfs://" + job, "args": args, "conf": conf or {}})
    assert r.status_code == 201, r.text
    return r.json()


def read_result(stack, out):
    r = stack.fs("-cat", out + "/part-*")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[0])


@pytest.fixture(scope="module")
def token_batches(stack):
    """alice's batch reads its own token file and a resolved secret; bob's
    batch tries to read alice's token file."""
    tag = uuid.uuid4().hex[:8]
    alice_out, bob_out = f"/user/alice/e2e-token-{tag}", f"/user/bob/e2e-token-{tag}"
    alice = submit(stack, "alice", ["hdfs://" + alice_out], {"spark.demo.db.password": "secret@demo-db-password"})
    # alice's file exists once her create returned: bob's job aims at it.
    bob = submit(stack, "bob", ["hdfs://" + bob_out, "/user/alice/.livygate/token"])
    states = {u: wait_state(stack, u, b["id"]) for u, b in (("alice", alice), ("bob", bob))}
    return {"alice": alice, "bob": bob, "states": states, "alice_out": alice_out, "bob_out": bob_out}


def test_hdfs_file_delivery(stack, jwks, token_batches):
    assert token_batches["states"] == {"alice": "success", "bob": "success"}
    mine = read_result(stack, token_batches["alice_out"])
    assert mine["result"] == "READ" and mine["user"] == "alice"
    assert mine["path"] == "/user/alice/.livygate/token"
    assert verify(stack, jwks, mine["token"])["sub"] == "alice"
    # Owner and mode, as the real CLI sees them.
    st = stack.fs("-stat", "%u %a", "/user/alice/.livygate/token", "/user/alice/.livygate")
    assert st.stdout.split() == ["alice", "600", "alice", "700"], st.stdout
    theirs = read_result(stack, token_batches["bob_out"])
    assert theirs["user"] == "bob" and theirs["result"] == "DENIED permission" and theirs["token"] == ""
    assert stack.fs("-cat", "/user/alice/.livygate/token", user="bob").returncode != 0


def test_secret_reference_resolved_inside_spark_and_nowhere_else(stack, token_batches):
    value = (Path(stack.env["STACK_SECRETS_DIR"]) / "demo-db-password").read_text().strip()
    assert read_result(stack, token_batches["alice_out"])["secret"] == value
    token = read_result(stack, token_batches["alice_out"])["token"]
    bid = token_batches["alice"]["id"]
    answers = [stack.call("alice", "GET", p).text for p in
               (f"/batches/{bid}", f"/batches/{bid}/log?from=0&size=1000", "/batches")]
    answers.append(json.dumps(token_batches["alice"]))
    for text in answers:
        assert value not in text and token not in text
    # Nor does any line of the gateway's own log.
    time.sleep(0.3)  # the log buffer flushes every 100 ms
    log = (Path(stack.env["STACK_LOG_DIR"]) / "livygate.log").read_text(errors="replace")
    assert value not in log and token not in log
    # bob is not on the secret's access list: refused, nothing created.
    before = stack.livy_direct("GET", "/batches").json()["total"]
    r = stack.call("bob", "POST", "/batches", json={"file": "hdfs:///user/bob/x.py",
                                                    "conf": {"spark.x": "secret@demo-db-password"}})
    assert r.status_code == 400 and "unknown or not allowed" in r.json()["msg"], r.text
    assert value not in r.text
    assert stack.livy_direct("GET", "/batches").json()["total"] == before
