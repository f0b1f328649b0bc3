"""Checks of the Sparkmagic driver (kernel.py) against the fake Livy (fake_livy.py).

These prove the driver drives the REAL pysparkkernel end to end and record how
Sparkmagic 0.23 surfaces results and errors, before the real gateway/Livy exist.

Run with the dev venv (installs it if needed):
    deploy/dev/jupyterhub/hub.sh install
    .cache/dev/py/bin/python -m pytest -q deploy/dev/harness/test_kernel_driver.py
"""

import base64
import textwrap
import time

import pytest

from fake_livy import SPARK_SESSION_REPR, FakeLivy
from kernel import CellTimeout, SparkmagicKernel

USERS = {"alice": "alice-pw", "bob": "bob-pw"}


@pytest.fixture
def fake():
    with FakeLivy(users=USERS) as f:
        yield f


def basic(user, pw):
    return "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()


# Shorter heartbeat sleeps: deleting a session joins the heartbeat thread.
FAST = {"heartbeat_refresh_seconds": 1, "heartbeat_retry_seconds": 1}


def alice_kernel(fake, **kw):
    kw.setdefault("custom_headers", {"X-Requested-By": "sparkmagic"})
    kw.setdefault("config", FAST)
    return SparkmagicKernel(fake.url, username="alice", password=USERS["alice"], **kw)


def assert_ok(r):
    assert r.ok, r.summary()


def test_code_cell_creates_session_and_returns_output(fake):
    with alice_kernel(fake) as k:
        r = k.execute("spark.range(1000).count()")
        assert_ok(r)
        # Sparkmagic's session start messages, then Livy's text/plain as stdout.
        assert r.stdout.endswith("1000"), r.summary()
        assert "Starting Spark application" in r.stdout
        assert "SparkSession available as 'spark'." in r.stdout
        # the session table shown once the session is idle
        assert any("<td>alice</td>" in h for h in r.html), r.summary()

        create = fake.requests_to("POST", "/sessions")
        assert len(create) == 1
        assert create[0]["body"] == {"kind": "pyspark", "heartbeatTimeoutInSecond": 60}
        codes = [q["body"]["code"] for q in fake.requests_to("POST", r"/sessions/0/statements")]
        assert codes == ["spark", "spark.range(1000).count()\n"]
        for q in fake.requests:
            assert q["headers"].get("Authorization") == basic("alice", USERS["alice"])
            assert q["headers"].get("X-Requested-By") == "sparkmagic"
            assert q["headers"].get("Content-Type") == "application/json"

        # a second cell reuses the session
        r2 = k.execute("print('hello')")
        assert_ok(r2)
        assert r2.stdout == "hello"
        assert len(fake.requests_to("POST", "/sessions")) == 1
    # kernel shutdown deletes the Livy session, as closing a notebook does
    assert fake.requests_to("DELETE", "/sessions/0")
    assert fake.sessions == {}


def test_info_lists_sessions(fake):
    fake.add_session(owner="alice")  # id 0: an older session of alice's
    fake.add_session(owner="bob")  # id 1: not visible to alice in this fake
    with alice_kernel(fake) as k:
        r = k.info()  # before any session of this kernel
        assert_ok(r)
        text = r.html_text()
        assert "Current session configs:" in text
        assert "<td>0</td>" in "".join(r.html) and "<td>1</td>" not in "".join(r.html)

        assert_ok(k.execute("spark.range(10).count()"))  # creates session 2
        r = k.info()
        assert_ok(r)
        html = "".join(r.html)
        assert "<td>0</td>" in html and "<td>2</td>" in html
        assert "\u2714" in html  # the current session is ticked
        assert fake.requests_to("GET", "/sessions")


def test_logs_shows_session_log(fake):
    with alice_kernel(fake) as k:
        assert_ok(k.execute("spark.range(3).count()"))
        r = k.logs()
        assert_ok(r)
        assert "fake-livy: session 0 created for alice" in r.stdout
        assert fake.requests_to("GET", r"/sessions/0/log\?from=0")


def test_statement_error_goes_to_stderr_with_status_ok(fake):
    with alice_kernel(fake) as k:
        r = k.execute("raise ValueError('boom')")
        # Sparkmagic catches it: stderr text, execute_reply status stays "ok".
        assert r.status == "ok"
        assert r.errors == []
        assert r.stderr.startswith("An error was encountered:\nboom\n"), r.summary()
        assert "ValueError: boom" in r.stderr
        assert r.failed


def test_configure_refused_proxy_user_shows_livy_msg(fake):
    with alice_kernel(fake) as k:
        assert_ok(k.execute("spark.range(1).count()"))  # session 0 exists
        t0 = time.monotonic()
        r = k.configure({"proxyUser": "bob"})  # %%configure -f: DELETE 0, POST /sessions
        took = time.monotonic() - t0
        assert r.status == "ok" and r.failed
        assert "The code failed because of a fatal error:" in r.stderr
        assert ("Invalid status code '403' from %s/sessions with error payload: "
                "{\"msg\": \"User 'alice' is not allowed to impersonate 'bob'.\"}" % fake.url) in r.stderr, r.summary()
        assert fake.requests_to("DELETE", "/sessions/0")
        posted = fake.requests_to("POST", "/sessions")[-1]["body"]
        assert posted == {"proxyUser": "bob", "kind": "pyspark", "heartbeatTimeoutInSecond": 60}
        assert took < 10, "deleting the session joins the heartbeat thread (1 s here)"

        # The failure is sticky: the next cell repeats it without any HTTP call.
        n = len(fake.requests)
        r2 = k.execute("spark.range(2).count()")
        assert "The code failed because of a fatal error:" in r2.stderr and "403" in r2.stderr
        assert len(fake.requests) == n

        # Only a kernel restart clears it (session settings are back to config.json's).
        k.restart()
        r3 = k.execute("spark.range(2).count()")
        assert_ok(r3)
        assert r3.stdout.endswith("2")


def test_configure_before_session_refusal_shows_on_next_cell(fake):
    with alice_kernel(fake) as k:
        r = k.configure({"proxyUser": "bob"}, force=False)
        # no session yet: %%configure only stores the settings and shows %%info
        assert_ok(r)
        assert "'proxyUser': 'bob'" in r.html_text()
        assert not fake.requests_to("POST", "/sessions")
        r2 = k.execute("spark.range(1).count()")
        assert "is not allowed to impersonate 'bob'" in r2.stderr, r2.summary()


def test_cleanup_deletes_only_listed_sessions(fake):
    fake.add_session(owner="bob")  # id 0, hidden from alice by this fake's filtering
    with alice_kernel(fake) as k:
        assert_ok(k.execute("spark.range(1).count()"))  # id 1
        fake.add_session(owner="alice")  # id 2, e.g. from another notebook
        assert k.cleanup(force=False).stderr.startswith("When you clean up the endpoint")
        assert not fake.requests_to("DELETE")
        r = k.cleanup()
        assert_ok(r)
        deleted = sorted(q["path"] for q in fake.requests_to("DELETE"))
        assert deleted == ["/sessions/1", "/sessions/2"], deleted
        assert list(fake.sessions) == [0]


def test_bad_password_surfaces_401(fake):
    with SparkmagicKernel(fake.url, username="alice", password="wrong", config=FAST) as k:
        r = k.execute("spark.range(1).count()")
        assert r.failed
        assert "Invalid status code '401'" in r.stderr
        assert "Authentication required or credentials invalid." in r.stderr


def test_5xx_is_retried_even_for_post(fake):
    fake.add_rule("POST", "/sessions", 503, {"msg": "try later"}, times=2)
    with alice_kernel(fake) as k:
        r = k.execute("spark.range(7).count()")
        assert_ok(r)
        assert r.stdout.endswith("7")
    # 2 x 503 then 201: a gateway 5xx after creating upstream would duplicate sessions
    assert len(fake.requests_to("POST", "/sessions")) == 3


def test_2xx_non_json_body_breaks_the_client(fake):
    fake.add_rule("POST", "/sessions", 201, "created!")
    with alice_kernel(fake) as k:
        r = k.execute("spark.range(1).count()")
        assert r.failed
        assert "The code failed because of a fatal error:" in r.stderr, r.summary()


def test_custom_authenticator_and_env(tmp_path):
    (tmp_path / "hubtoken_auth.py").write_text(textwrap.dedent('''
        import os
        from sparkmagic.auth.customauth import Authenticator

        class HubToken(Authenticator):
            """Send the kernel's JUPYTERHUB_API_TOKEN (test stand-in)."""
            def __call__(self, request):
                request.headers["Authorization"] = "token " + os.environ["JUPYTERHUB_API_TOKEN"]
                return request
        '''))
    with FakeLivy(tokens={"t0k-carol": "carol"}) as fake:
        with SparkmagicKernel(
            fake.url,
            authenticator=("HubToken", "hubtoken_auth.HubToken"),
            python_path=[tmp_path],
            env={"JUPYTERHUB_API_TOKEN": "t0k-carol"},
            config=FAST,
            custom_headers={"X-Requested-By": "sparkmagic", "X-Extra": "1"},
        ) as k:
            assert k.config["kernel_python_credentials"]["auth"] == "HubToken"
            r = k.execute("spark.range(42).count()")
            assert_ok(r)
            assert r.stdout.endswith("42")
            assert "<td>carol</td>" in "".join(r.html)
        for q in fake.requests:
            assert q["headers"]["Authorization"] == "token t0k-carol"
            assert q["headers"]["X-Extra"] == "1"


def test_local_cell_and_config_isolation(fake):
    with alice_kernel(fake) as k:
        r = k.local("import os, sparkmagic.utils.configuration as c\n"
                    "print(os.environ['SPARKMAGIC_CONF_DIR'])\n"
                    "print(c.livy_session_startup_timeout_seconds())")
        assert_ok(r)
        lines = r.stdout.split()
        assert lines[0] == str(k.conf_dir)
        assert lines[1] == "600"
        assert oct((k.conf_dir / "config.json").stat().st_mode & 0o777) == "0o600"
        assert not fake.requests  # %%local never talks to Livy


def test_cell_timeout_interrupts_and_kernel_survives(fake):
    with alice_kernel(fake) as k:
        assert_ok(k.execute("spark.range(1).count()"))
        # Sparkmagic's HTTP calls have no timeout: a hanging endpoint hangs the cell.
        fake.add_rule("POST", r"/sessions/\d+/statements", 201, {"id": 99, "state": "waiting"},
                      times=1, delay=20)
        with pytest.raises(CellTimeout) as exc:
            k.execute("spark.range(2).count()", timeout=3)
        assert "did not finish in 3s" in str(exc.value)
        # the driver interrupted the kernel; it keeps working afterwards
        r = k.execute("spark.range(5).count()", timeout=60)
        assert_ok(r)
        assert r.stdout.endswith("5")
