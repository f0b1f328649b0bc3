"""A tiny fake Apache Livy for developing and checking the Sparkmagic driver.

It is NOT a test double for the gateway: it answers just the sequence the real
Sparkmagic 0.23 uses (POST /sessions 201 -> GET /sessions/{id} until idle, with
`log`, `appId`, `appInfo` -> POST statements 201 -> GET statement until
`available` with `output.data` -> DELETE), plus GET /sessions (for %%info and
%%cleanup) and GET /sessions/{id}/log (for %%logs). Like livygate it can demand
credentials and refuse a proxyUser that is not the caller, with Livy's JSON
error shape `{"msg": "..."}`.

Use it in-process:

    with FakeLivy(users={"alice": "pw"}) as fake:
        ... fake.url ..., fake.requests, fake.add_rule("POST", "/sessions", 403, {"msg": "no"})

or standalone:  python fake_livy.py --port 8998 --user alice:pw
It binds 127.0.0.1 only.
"""

import argparse
import base64
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SPARK_SESSION_REPR = "<pyspark.sql.session.SparkSession object at 0x7f5e2c1d3a90>"


def default_evaluate(code):
    """Livy statement output for `code`: a dict with status ok or error."""
    stripped = code.strip()
    if stripped == "spark":
        return {"status": "ok", "data": {"text/plain": SPARK_SESSION_REPR}}
    m = re.search(r"spark\.range\((\d+)\)\.count\(\)", code)
    if m:
        return {"status": "ok", "data": {"text/plain": m.group(1)}}
    m = re.search(r"raise\s+(\w+)\((['\"])(.*?)\2\)", code)
    if m:
        ename, evalue = m.group(1), m.group(3)
        return {
            "status": "error",
            "ename": ename,
            "evalue": evalue,
            "traceback": [
                "Traceback (most recent call last):\n",
                '  File "<stdin>", line 1, in <module>\n',
                "%s: %s\n" % (ename, evalue),
            ],
        }
    m = re.fullmatch(r"print\((['\"])(.*)\1\)", stripped)
    if m:
        return {"status": "ok", "data": {"text/plain": m.group(2)}}
    return {"status": "ok", "data": {"text/plain": "fake-livy ran: " + stripped}}


class FakeLivy:
    """In-memory Livy REST server on 127.0.0.1 (a background thread)."""

    def __init__(
        self,
        port=0,
        users=None,
        tokens=None,
        starting_polls=2,
        running_polls=1,
        enforce_proxy_user=True,
        filter_sessions=True,
        evaluate=default_evaluate,
    ):
        # users: {name: password} for Basic; tokens: {token: name} for
        # "Authorization: token|Bearer <t>". Both None: anonymous, no checks.
        self.users = users
        self.tokens = tokens
        self.starting_polls = starting_polls
        self.running_polls = running_polls
        self.enforce_proxy_user = enforce_proxy_user
        self.filter_sessions = filter_sessions
        self.evaluate = evaluate
        self.sessions = {}
        self.requests = []
        self.rules = []
        self._next_id = 0
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = None

    # --- lifecycle -----------------------------------------------------------
    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- test helpers ----------------------------------------------------------
    def add_rule(self, method, path_regex, status, body, times=None, delay=0.0):
        """Answer requests matching METHOD + full-match PATH regex with STATUS/BODY
        (a dict is sent as JSON, a str as text/plain) before normal handling,
        after sleeping `delay` seconds. times=None: forever."""
        with self._lock:
            self.rules.append(
                {"method": method, "path": re.compile(path_regex), "status": status,
                 "body": body, "times": times, "delay": delay}
            )

    def clear_rules(self):
        with self._lock:
            self.rules.clear()

    def requests_to(self, method=None, path_regex=None):
        with self._lock:
            out = list(self.requests)
        return [
            r for r in out
            if (method is None or r["method"] == method)
            and (path_regex is None or re.fullmatch(path_regex, r["path"]))
        ]

    def add_session(self, owner, proxy_user=None, state="idle", kind="pyspark"):
        """Create a session directly (e.g. another user's), bypassing HTTP."""
        with self._lock:
            return self._new_session(owner, {"kind": kind, "proxyUser": proxy_user or owner},
                                     state=state)

    # --- internals --------------------------------------------------------------
    def _new_session(self, owner, body, state="starting"):
        sid = self._next_id
        self._next_id += 1
        s = {
            "id": sid,
            "name": body.get("name"),
            "appId": "local-%d" % (1700000000000 + sid),
            "owner": owner,
            "proxyUser": body.get("proxyUser") or owner,
            "state": state,
            "kind": body.get("kind", "spark"),
            "appInfo": {
                "driverLogUrl": "http://127.0.0.1:1/driver-log/%d" % sid,
                "sparkUiUrl": "http://127.0.0.1:1/spark-ui/%d" % sid,
            },
            "log": ["fake-livy: session %d created for %s" % (sid, owner)],
            "ttl": None,
            "_polls": 0,
            "_statements": [],
            "_body": body,
        }
        self.sessions[sid] = s
        return s

    @staticmethod
    def public(s):
        return {k: v for k, v in s.items() if not k.startswith("_")}


def _make_handler(fake):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeLivy/0.9"

        def log_message(self, fmt, *args):  # keep test output quiet
            pass

        # --- plumbing ---------------------------------------------------------
        def _send(self, status, body):
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
                ctype = "application/json"
            else:
                data = str(body).encode()
                ctype = "text/plain; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status, msg):
            self._send(status, {"msg": msg})

        def _identity(self):
            """(ok, user). Anonymous when neither users nor tokens are set."""
            if fake.users is None and fake.tokens is None:
                return True, None
            h = self.headers.get("Authorization", "")
            scheme, _, cred = h.partition(" ")
            if scheme.lower() == "basic" and fake.users is not None:
                try:
                    user, _, pw = base64.b64decode(cred).decode().partition(":")
                except Exception:
                    return False, None
                if fake.users.get(user) == pw:
                    return True, user
            if scheme.lower() in ("token", "bearer") and fake.tokens is not None:
                user = fake.tokens.get(cred.strip())
                if user:
                    return True, user
            return False, None

        def _handle(self, method):
            parts = urlsplit(self.path)
            path, query = parts.path, parse_qs(parts.query)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            matched = None
            with fake._lock:
                fake.requests.append({
                    "method": method, "path": self.path, "headers": dict(self.headers.items()),
                    "body": body, "time": time.time(),
                })
                for rule in fake.rules:
                    if rule["method"] == method and rule["path"].fullmatch(path):
                        if rule["times"] is not None:
                            if rule["times"] <= 0:
                                continue
                            rule["times"] -= 1
                        matched = rule
                        break
            if matched is not None:
                if matched["delay"]:
                    time.sleep(matched["delay"])
                return self._send(matched["status"], matched["body"])
            ok, user = self._identity()
            if not ok:
                return self._error(401, "Authentication required or credentials invalid.")
            with fake._lock:
                return self._route(method, path, query, body, user)

        # --- Livy API -----------------------------------------------------------
        def _visible(self, s, user):
            return (not fake.filter_sessions) or user is None or s["owner"] == user

        def _session_or_404(self, sid, user):
            s = fake.sessions.get(int(sid)) if sid.isdigit() else None
            if s is None or not self._visible(s, user):
                self._error(404, "Session '%s' not found." % sid)
                return None
            return s

        def _route(self, method, path, query, body, user):
            m = re.fullmatch(r"/sessions/?", path)
            if m and method == "GET":
                vis = [fake.public(s) for s in fake.sessions.values() if self._visible(s, user)]
                frm = int(query.get("from", ["0"])[0])
                size = int(query.get("size", ["100"])[0])
                return self._send(200, {"from": frm, "total": len(vis), "sessions": vis[frm:frm + size]})
            if m and method == "POST":
                if not isinstance(body, dict):
                    return self._error(400, "Rejected, request body must be a JSON object.")
                proxy = body.get("proxyUser")
                if fake.enforce_proxy_user and user is not None and proxy not in (None, user):
                    return self._error(
                        403, "User '%s' is not allowed to impersonate '%s'." % (user, proxy))
                s = fake._new_session(user or "anonymous", body)
                return self._send(201, fake.public(s))

            m = re.fullmatch(r"/sessions/([^/]+)(/.*)?", path)
            if not m:
                return self._error(404, "Not found: %s" % path)
            s = self._session_or_404(m.group(1), user)
            if s is None:
                return None
            rest = m.group(2) or ""

            if rest in ("", "/") and method == "GET":
                s["_polls"] += 1
                if s["state"] == "starting" and s["_polls"] >= fake.starting_polls:
                    s["state"] = "idle"
                    s["log"].append("fake-livy: session %d is idle" % s["id"])
                return self._send(200, fake.public(s))
            if rest in ("", "/") and method == "DELETE":
                del fake.sessions[s["id"]]
                return self._send(200, {"msg": "deleted"})
            if rest == "/state" and method == "GET":
                return self._send(200, {"id": s["id"], "state": s["state"]})
            if rest == "/log" and method == "GET":
                frm = int(query.get("from", ["0"])[0])
                size = int(query.get("size", ["100"])[0])
                return self._send(200, {"id": s["id"], "from": frm, "total": len(s["log"]),
                                        "log": s["log"][frm:frm + size]})
            if rest == "/statements" and method == "GET":
                sts = [self._statement_view(st) for st in s["_statements"]]
                return self._send(200, {"total_statements": len(sts), "statements": sts})
            if rest == "/statements" and method == "POST":
                if s["state"] != "idle":
                    return self._error(400, "Session is in state %s" % s["state"])
                code = (body or {}).get("code", "")
                st = {"id": len(s["_statements"]), "code": code, "_polls": 0,
                      "_output": fake.evaluate(code), "_cancelled": False}
                s["_statements"].append(st)
                s["log"].append("fake-livy: statement %d: %s" % (st["id"], code[:60]))
                return self._send(201, self._statement_view(st))
            m2 = re.fullmatch(r"/statements/(\d+)(/cancel)?", rest)
            if m2:
                sid2 = int(m2.group(1))
                if sid2 >= len(s["_statements"]):
                    return self._error(404, "Statement not found")
                st = s["_statements"][sid2]
                if m2.group(2) and method == "POST":
                    st["_cancelled"] = True
                    return self._send(200, {"msg": "canceled"})
                if not m2.group(2) and method == "GET":
                    st["_polls"] += 1
                    return self._send(200, self._statement_view(st))
            return self._error(404, "Not found: %s %s" % (method, path))

        def _statement_view(self, st):
            if st["_cancelled"]:
                return {"id": st["id"], "code": st["code"], "state": "cancelled",
                        "output": None, "progress": 1.0}
            if st["_polls"] <= fake.running_polls:
                return {"id": st["id"], "code": st["code"],
                        "state": "waiting" if st["_polls"] == 0 else "running",
                        "output": None, "progress": 0.5 if st["_polls"] else 0.0}
            out = dict(st["_output"])
            out["execution_count"] = st["id"]
            return {"id": st["id"], "code": st["code"], "state": "available",
                    "output": out, "progress": 1.0}

        def do_GET(self):
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

        def do_DELETE(self):
            self._handle("DELETE")

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8998)
    ap.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD",
                    help="require Basic auth with these users (repeatable)")
    args = ap.parse_args()
    users = dict(u.split(":", 1) for u in args.user) if args.user else None
    fake = FakeLivy(port=args.port, users=users)
    print("fake livy on %s" % fake.url, flush=True)
    try:
        fake._server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
