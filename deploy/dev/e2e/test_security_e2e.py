"""Issue 11 end to end: where real Livy's own behaviour made a hole, the
hole is tried against the real Livy (0.9) behind the gateway.

Each test first shows, directly against Livy, the behaviour that makes the
attack work (so it fails for the stated reason if Livy changes), then tries
the attack through the gateway. Everything created is deleted in a finally.
"""

import uuid

import pytest


def create(stack, user, res, body):
    r = stack.call(user, "POST", f"/{res}", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def delete_quietly(stack, res, *ids):
    for i in ids:
        if i is not None:
            stack.livy_direct("DELETE", f"/{res}/{i}")


@pytest.fixture
def bobs_batch(stack):
    """A batch of bob's (its job file does not exist: it only has to be in Livy)."""
    b = create(stack, "bob", "batches", {"file": "hdfs:///user/bob/none.py"})
    try:
        yield b
    finally:
        delete_quietly(stack, "batches", b["id"])


def batch_exists(stack, bid):
    return stack.livy_direct("GET", f"/batches/{bid}").status_code == 200


# --- item 1: Livy's router cuts a path at the first ';' ------------------------

def test_semicolon_never_reaches_another_users_batch(stack, bobs_batch):
    bid = bobs_batch["id"]
    # The cause: to Livy, "/batches/<id>;x" is batch <id>.
    direct = stack.livy_direct("GET", f"/batches/{bid};x")
    assert direct.status_code == 200 and direct.json()["id"] == bid, direct.text

    # alice cannot name a session so that Livy reads it as bob's.
    total = stack.livy_direct("GET", "/batches").json()["total"]
    r = stack.call("alice", "POST", "/batches", json={"file": "hdfs:///user/alice/none.py", "name": f"{bid};x"})
    assert r.status_code == 400, r.text
    assert stack.livy_direct("GET", "/batches").json()["total"] == total

    # Nor reach bob's batch with ';' in the path, raw or escaped, on any route.
    for ref in (f"{bid};x", f"{bid}%3Bx", f"{bid};"):
        for method, sub in (("GET", ""), ("GET", "/state"), ("GET", "/log"), ("DELETE", "")):
            r = stack.call("alice", method, f"/batches/{ref}{sub}")
            assert r.status_code in (400, 404), (method, ref, sub, r.status_code, r.text)
            assert "bob" not in r.text, r.text
    assert batch_exists(stack, bid), "alice deleted bob's batch through ';'"


# --- item 2: Livy takes a _method parameter as a POST's method -----------------

def test_method_override_is_refused(stack, bobs_batch):
    bid = bobs_batch["id"]
    # The cause: to Livy, POST /batches?_method=GET is the list.
    direct = stack.livy_direct("POST", "/batches?_method=GET", json={})
    assert direct.status_code == 200 and "sessions" in direct.json(), direct.text

    total = stack.livy_direct("GET", "/batches").json()["total"]
    for path in ("/batches?_method=GET", "/batches?_method=DELETE", f"/batches/{bid}?_method=DELETE"):
        r = stack.call("alice", "POST", path, json={"file": "hdfs:///user/alice/none.py"})
        assert r.status_code in (400, 404), (path, r.status_code, r.text)
    assert batch_exists(stack, bid), "the gateway deleted bob's batch"
    assert stack.livy_direct("GET", "/batches").json()["total"] == total


# --- item 14: Livy has one name namespace for everyone -------------------------

def test_session_names_are_per_user(stack):
    name = "e2e-" + uuid.uuid4().hex[:8]
    bobs = alices = None
    try:
        bobs = create(stack, "bob", "batches", {"file": "hdfs:///user/bob/none.py", "name": name})
        # Taken by bob, the name is still free for alice: nothing leaks, nothing blocks.
        alices = create(stack, "alice", "batches", {"file": "hdfs:///user/alice/none.py", "name": name})
        assert alices["name"] == name and bobs["name"] == name
        for user, mine in (("alice", alices), ("bob", bobs)):
            r = stack.call(user, "GET", f"/batches/{name}")
            assert r.status_code == 200, r.text
            assert r.json()["id"] == mine["id"] and r.json()["name"] == name
            listed = {b["id"]: b["name"] for b in stack.call(user, "GET", "/batches").json()["sessions"]}
            assert listed.get(mine["id"]) == name
        # In Livy the names are namespaced by owner, and the raw form is admins' only.
        assert stack.livy_direct("GET", f"/batches/{alices['id']}").json()["name"] == f"alice~{name}"
        assert stack.call("alice", "GET", f"/batches/bob~{name}").status_code == 404
        assert stack.call("carol", "GET", f"/batches/bob~{name}").json()["id"] == bobs["id"]
    finally:
        delete_quietly(stack, "batches", bobs and bobs["id"], alices and alices["id"])


# --- item 15: a create the gateway can find again in Livy ----------------------

def test_unnamed_interactive_session_is_findable_by_its_livy_name(stack):
    """A slow create is answered from Livy by the unique name the gateway gave
    the session; this checks that real Livy stores and routes that name."""
    sid = None
    try:
        s = create(stack, "alice", "sessions", {"kind": "pyspark"})
        sid = s["id"]
        assert s["proxyUser"] == "alice" and s["name"] is None, s
        raw = stack.livy_direct("GET", f"/sessions/{sid}").json()["name"]
        assert raw.startswith("alice~~"), raw
        found = stack.livy_direct("GET", f"/sessions/{raw}")
        assert found.status_code == 200 and found.json()["id"] == sid, found.text
        # And the owner polls it by id with the name shown as none.
        r = stack.call("alice", "GET", f"/sessions/{sid}")
        assert r.status_code == 200 and r.json()["name"] is None, r.text
        assert stack.call("bob", "GET", f"/sessions/{sid}").status_code == 404
    finally:
        delete_quietly(stack, "sessions", sid)
