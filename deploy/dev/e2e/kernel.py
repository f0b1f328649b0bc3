"""Drive the real Sparkmagic `pysparkkernel` through jupyter_client, as a notebook does.

    from kernel import SparkmagicKernel

    with SparkmagicKernel("http://127.0.0.1:8999", username="alice", password="pw") as k:
        r = k.execute("spark.range(1000).count()")
        assert r.ok and "1000" in r.stdout
        print(k.info().text)
        k.configure({"proxyUser": "bob"})        # %%configure -f
        k.cleanup()                              # %%cleanup -f

Each kernel gets a private SPARKMAGIC_CONF_DIR holding config.json (0600: it
carries the password), a private runtime/IPython/Jupyter-config dir, and the
pysparkkernel kernelspec from the dev cache's Jupyter data dir (installed by
deploy/dev/jupyterhub/hub.sh install). Run it with the cache's venv python
(<repo>/.cache/dev/py/bin/python): the kernel is started with that venv.

How Sparkmagic shows things (0.23, defaults kept):
- code cell result: Livy's text/plain -> a stdout stream; text/html -> display_data.
- %%info, the session table after start: display_data with text/html.
- ANY failure (HTTP 4xx/5xx after retries, statement error, bad magic): a stderr
  stream, and the execute reply status stays "ok". So check `result.stderr`
  (or `result.failed`), not only `result.status`.
- A failed session creation is sticky: every later cell repeats
  "The code failed because of a fatal error: ..." until the kernel restarts
  (use `restart()`).
"""

import base64
import json
import os
import queue
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

# Sparkmagic config keys (sparkmagic/utils/configuration.py, 0.23.0) we set by default.
# Sessions take 20-60 s to reach idle on the 2-core dev box; be generous.
DEFAULT_CONFIG = {
    "livy_session_startup_timeout_seconds": 600,  # default 60: POST /sessions -> idle
    "wait_for_idle_timeout_seconds": 300,  # default 15: before each statement
    # Deleting a session (%%configure -f, %%cleanup -f, kernel shutdown) joins the
    # heartbeat thread, which sleeps heartbeat_refresh_seconds (default 30) between
    # GET /sessions/{id}: 5 keeps those cells fast.
    "heartbeat_refresh_seconds": 5,
    "heartbeat_retry_seconds": 5,
    # Sent as heartbeatTimeoutInSecond in POST /sessions: Livy kills a session whose
    # kernel stopped heartbeating (a crashed test) after this long.
    "livy_server_heartbeat_timeout_seconds": 60,
    "ignore_ssl_errors": False,
    "use_auto_viz": True,
    "coerce_dataframe": True,
    "shutdown_session_on_spark_statement_errors": False,
    "all_errors_are_fatal": False,
    "cleanup_all_sessions_on_exit": False,
}

DEFAULT_AUTHENTICATORS = {
    "Kerberos": "sparkmagic.auth.kerberos.Kerberos",
    "None": "sparkmagic.auth.customauth.Authenticator",
    "Basic_Access": "sparkmagic.auth.basic.Basic",
}

def dev_cache():
    return Path(os.environ.get("DEV_CACHE") or REPO / ".cache" / "dev")


def default_jupyter_data_dir():
    return Path(os.environ.get("DEV_JUPYTER_DATA_DIR") or dev_cache() / "jupyter")


class KernelError(Exception):
    pass


class CellTimeout(KernelError):
    def __init__(self, msg, partial):
        super().__init__(msg)
        self.partial = partial


@dataclass
class CellResult:
    code: str
    status: str = ""  # execute_reply status: ok | error | aborted
    execution_count: int = None
    outputs: list = field(default_factory=list)
    duration: float = 0.0

    def _streams(self, name):
        return "".join(o["text"] for o in self.outputs if o["type"] == "stream" and o["name"] == name)

    @property
    def stdout(self):
        return self._streams("stdout")

    @property
    def stderr(self):
        return self._streams("stderr")

    def _data(self, mime):
        return [o["data"][mime] for o in self.outputs
                if o["type"] in ("display_data", "execute_result", "update_display_data")
                and mime in o["data"] and WIDGET_MIME not in o["data"]]

    @property
    def plain(self):
        """text/plain of display_data/execute_result outputs (widgets excluded)."""
        return self._data("text/plain")

    @property
    def html(self):
        return self._data("text/html")

    @property
    def errors(self):
        return [o for o in self.outputs if o["type"] == "error"]

    @property
    def widgets(self):
        return [o for o in self.outputs if o["type"] in ("display_data",) and WIDGET_MIME in o["data"]]

    @property
    def failed(self):
        """True when the kernel reported an error or sparkmagic printed one.

        Sparkmagic writes every error it handles to stderr ("An error was
        encountered:", "The code failed because of a fatal error:", "An internal
        error was encountered.", usage errors) and nothing else goes there.
        """
        return self.status != "ok" or bool(self.errors) or bool(self.stderr.strip())

    @property
    def ok(self):
        return not self.failed

    @property
    def text(self):
        """Everything a user would read in the cell, as one string."""
        parts = []
        for o in self.outputs:
            if o["type"] == "stream":
                parts.append(o["text"])
            elif o["type"] == "error":
                parts.append("%s: %s\n%s" % (o["ename"], o["evalue"], "\n".join(o["traceback"])))
            elif WIDGET_MIME not in o.get("data", {}):
                d = o.get("data", {})
                if "text/html" in d:
                    parts.append(d["text/html"])
                elif "text/plain" in d:
                    parts.append(d["text/plain"])
        return "\n".join(parts)

    def html_text(self):
        """The HTML outputs with tags stripped (e.g. %%info's session table)."""
        return "\n".join(re.sub(r"<[^>]+>", " ", h) for h in self.html)

    def summary(self):
        return "status=%s duration=%.1fs\n--- stdout\n%s--- stderr\n%s--- html\n%s--- plain\n%s--- errors\n%s" % (
            self.status, self.duration, self.stdout, self.stderr, "\n".join(self.html),
            "\n".join(self.plain), self.errors)


class SparkmagicKernel:
    """One real pysparkkernel, configured for one Livy (or gateway) URL."""

    def __init__(
        self,
        url,
        *,
        auth=None,
        username="",
        password="",
        authenticator=None,
        python_path=(),
        custom_headers=None,
        session_configs=None,
        config=None,
        env=None,
        jupyter_data_dir=None,
        kernel_name="pysparkkernel",
        cell_timeout=900,
        startup_timeout=120,
        workdir=None,
        keep_workdir=False,
    ):
        """
        url: the Livy endpoint (the gateway).
        auth: sparkmagic auth name: "None", "Basic_Access", "Kerberos" or the name of a
            custom authenticator; default Basic_Access if username is set, else None.
        authenticator: (name, "module.Class") of a custom sparkmagic Authenticator
            subclass; implies auth=name. Put its module's directory in python_path.
        custom_headers: sent on every request (Livy's CSRF filter wants X-Requested-By).
        session_configs: sparkmagic `session_configs` (default POST /sessions body).
        config: extra/overriding top-level sparkmagic config keys.
        env: extra environment for the kernel (e.g. JUPYTERHUB_API_TOKEN).
        """
        if authenticator is not None:
            auth_name, _cls = authenticator
            auth = auth or auth_name
        if auth is None:
            auth = "Basic_Access" if username else "None"
        self.url = url.rstrip("/")
        self.auth = auth
        self.cell_timeout = cell_timeout
        self.startup_timeout = startup_timeout
        self.kernel_name = kernel_name
        self.jupyter_data_dir = Path(jupyter_data_dir or default_jupyter_data_dir())
        self.keep_workdir = keep_workdir
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="sparkmagic-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o700)
        self.conf_dir = self.workdir / "sparkmagic"
        self.conf_dir.mkdir(exist_ok=True)

        authenticators = dict(DEFAULT_AUTHENTICATORS)
        if authenticator is not None:
            authenticators[authenticator[0]] = authenticator[1]
        creds = {"username": username or "", "url": self.url, "auth": auth,
                 # sparkmagic prefers base64_password when present
                 "base64_password": base64.b64encode((password or "").encode()).decode()}
        self.config = dict(DEFAULT_CONFIG)
        self.config.update({
            "kernel_python_credentials": creds,
            "kernel_scala_credentials": dict(creds),
            "kernel_r_credentials": dict(creds),
            "authenticators": authenticators,
            "custom_headers": dict(custom_headers or {}),
            "session_configs": dict(session_configs or {}),
        })
        self.config.update(config or {})
        cfg_path = self.conf_dir / "config.json"
        fd = os.open(cfg_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.config, f, indent=2)

        self.env = self._kernel_env(python_path, env or {})
        self.km = None
        self.kc = None
        self._kernel_log = None

    # --- environment ------------------------------------------------------------
    def _kernel_env(self, python_path, extra):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JUPYTER_", "SPARKMAGIC_", "IPYTHON"))
               # let the venv cache bytecode: kernel start is ~2x faster with it
               and k != "PYTHONDONTWRITEBYTECODE"}
        for sub in ("runtime", "ipython", "jupyter-config"):
            (self.workdir / sub).mkdir(exist_ok=True)
        env.update({
            "SPARKMAGIC_CONF_DIR": str(self.conf_dir),
            "SPARKMAGIC_CONF_FILE": "config.json",
            "JUPYTER_DATA_DIR": str(self.jupyter_data_dir),
            "JUPYTER_RUNTIME_DIR": str(self.workdir / "runtime"),
            "JUPYTER_CONFIG_DIR": str(self.workdir / "jupyter-config"),
            "IPYTHONDIR": str(self.workdir / "ipython"),
            "PYTHONUNBUFFERED": "1",
        })
        pp = [str(p) for p in python_path]
        if env.get("PYTHONPATH"):
            pp.append(env["PYTHONPATH"])
        if pp:
            env["PYTHONPATH"] = os.pathsep.join(pp)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    # --- lifecycle ----------------------------------------------------------------
    def start(self):
        kernels_dir = self.jupyter_data_dir / "kernels"
        ksm = KernelSpecManager(kernel_dirs=[str(kernels_dir)])
        if self.kernel_name not in ksm.find_kernel_specs():
            raise KernelError(
                "kernelspec %r not found in %s; run deploy/dev/jupyterhub/hub.sh install"
                % (self.kernel_name, kernels_dir))
        # IPC sockets in the private workdir: no TCP ports at all (and no
        # "running over TCP without encryption" warning from ipykernel 7).
        self.km = KernelManager(kernel_name=self.kernel_name, kernel_spec_manager=ksm,
                                transport="ipc", ip=str(self.workdir / "ipc"))
        # Livy's DELETE on shutdown may take a while; default is 5 s before SIGKILL.
        self.km.shutdown_wait_time = 30.0
        self._kernel_log = open(self.workdir / "kernel.log", "ab")
        self.km.start_kernel(env=self.env, cwd=str(self.workdir),
                             stdout=self._kernel_log, stderr=self._kernel_log)
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=self.startup_timeout)
        except RuntimeError as e:
            log = self.kernel_log()
            self.shutdown()
            raise KernelError("kernel did not start: %s\n--- kernel log\n%s" % (e, log[-4000:]))
        return self

    def restart(self):
        """Restart the kernel (clears sparkmagic's sticky fatal error)."""
        self.km.restart_kernel(now=False)
        self.kc.wait_for_ready(timeout=self.startup_timeout)

    def shutdown(self):
        """Shut the kernel down as a notebook does; sparkmagic deletes its Livy session."""
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km is not None and self.km.has_kernel:
                self.km.shutdown_kernel(now=False)
        finally:
            self.kc = None
            if self._kernel_log is not None:
                self._kernel_log.close()
                self._kernel_log = None
            if self._own_workdir and not self.keep_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.shutdown()

    # --- cells ----------------------------------------------------------------------
    def execute(self, code, timeout=None):
        """Run one cell; return its outputs once the kernel is idle again."""
        if self.kc is None:
            raise KernelError("kernel not started")
        timeout = self.cell_timeout if timeout is None else timeout
        result = CellResult(code=code)
        t0 = time.monotonic()
        deadline = t0 + timeout
        msg_id = self.kc.execute(code, store_history=True, allow_stdin=False)
        idle = False
        reply = None
        while not (idle and reply is not None):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._interrupt_after_timeout(msg_id, result)
                result.duration = time.monotonic() - t0
                raise CellTimeout("cell did not finish in %ss:\n%s\n%s" % (
                    timeout, code, result.summary()), result)
            if not idle:
                try:
                    msg = self.kc.get_iopub_msg(timeout=min(remaining, 1.0))
                except queue.Empty:
                    self._check_alive(result)
                    continue
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if self._on_iopub(msg, result):
                    idle = True
            else:
                try:
                    msg = self.kc.get_shell_msg(timeout=min(remaining, 1.0))
                except queue.Empty:
                    self._check_alive(result)
                    continue
                if msg["parent_header"].get("msg_id") == msg_id:
                    reply = msg
        result.status = reply["content"].get("status", "")
        result.execution_count = reply["content"].get("execution_count")
        result.duration = time.monotonic() - t0
        return result

    def _on_iopub(self, msg, result):
        t = msg["msg_type"]
        c = msg["content"]
        if t == "status":
            return c.get("execution_state") == "idle"
        if t == "stream":
            outs = result.outputs
            if outs and outs[-1]["type"] == "stream" and outs[-1]["name"] == c["name"]:
                outs[-1]["text"] += c["text"]
            else:
                outs.append({"type": "stream", "name": c["name"], "text": c["text"]})
        elif t in ("display_data", "execute_result", "update_display_data"):
            result.outputs.append({"type": t, "data": dict(c.get("data", {})),
                                   "metadata": c.get("metadata", {})})
        elif t == "error":
            result.outputs.append({"type": "error", "ename": c.get("ename", ""),
                                   "evalue": c.get("evalue", ""),
                                   "traceback": list(c.get("traceback", []))})
        elif t == "clear_output":
            result.outputs.append({"type": "clear_output", "wait": c.get("wait", False)})
        # execute_input, comm_open/comm_msg/comm_close (progress widgets): ignored
        return False

    def _check_alive(self, result):
        if self.km is not None and not self.km.is_alive():
            raise KernelError("kernel died while running a cell\n%s\n--- kernel log\n%s" % (
                result.summary(), self.kernel_log()[-4000:]))

    def _interrupt_after_timeout(self, msg_id, result):
        # Like pressing "interrupt": sparkmagic cancels the running statement.
        try:
            self.km.interrupt_kernel()
            end = time.monotonic() + 30
            while time.monotonic() < end:
                try:
                    msg = self.kc.get_iopub_msg(timeout=1.0)
                except queue.Empty:
                    continue
                if msg["parent_header"].get("msg_id") == msg_id and self._on_iopub(msg, result):
                    break
        except Exception:
            pass

    # --- magics -----------------------------------------------------------------------
    def configure(self, body, force=True, timeout=None):
        """%%configure [-f] with a JSON body (session parameters for POST /sessions)."""
        return self.execute("%%configure" + (" -f" if force else "") + "\n" + json.dumps(body),
                            timeout=timeout)

    def info(self, timeout=None):
        return self.execute("%%info", timeout=timeout)

    def logs(self, timeout=None):
        return self.execute("%%logs", timeout=timeout)

    def cleanup(self, force=True, timeout=None):
        return self.execute("%%cleanup" + (" -f" if force else ""), timeout=timeout)

    def delete(self, session_id, timeout=None):
        return self.execute("%%%%delete -f -s %d" % session_id, timeout=timeout)

    def local(self, code, timeout=None):
        """Run plain Python in the kernel itself (%%local), e.g. to inspect sparkmagic."""
        return self.execute("%%local\n" + code, timeout=timeout)

    # --- diagnostics --------------------------------------------------------------------
    def kernel_log(self):
        p = self.workdir / "kernel.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def sparkmagic_log(self):
        """Sparkmagic's own DEBUG log (its HTTP calls and states), from the conf dir."""
        logs = sorted((self.conf_dir / "logs").glob("*.log")) if (self.conf_dir / "logs").exists() else []
        return "".join(p.read_text(errors="replace") for p in logs)
