# JupyterHub configuration for livygate's dev/test stack.
#
# Started by deploy/dev/jupyterhub/hub.sh, which sets the environment below.
# Only the Hub's REST API is needed (user listing, user tokens for the
# gateway's token login), so there is no user-facing proxy: NoopProxy keeps
# the routing table in memory and configurable-http-proxy (npm) is not needed.
# Everything binds to 127.0.0.1.
#
# Environment (all optional except the service token):
#   DEV_HUB_PORT                 hub port (default 8081)
#   DEV_HUB_STATE_DIR            sqlite db + cookie secret (default: next to this file's cache)
#   DEV_HUB_SERVICE_TOKEN        api_token of the `livygate` service
#   DEV_HUB_SERVICE_TOKEN_FILE   ...or a file holding it (used if the variable is unset)
#   DEV_HUB_PAGE_MAX_LIMIT       api_page_max_limit (default 200, JupyterHub's default)
#   DEV_HUB_USERS                demo users created at start (default alice,bob,carol)
#   DEV_HUB_ADMINS               admins among them (default carol)
#   DEV_HUB_LOG_LEVEL            default INFO

import os
import sys

from jupyterhub.proxy import Proxy

c = get_config()  # noqa: F821  (injected by JupyterHub)


def _env(name, default=None):
    value = os.environ.get(name, "").strip()
    return value if value else default


def _names(value):
    return sorted({n.strip().lower() for n in value.split(",") if n.strip()})


class NoopProxy(Proxy):
    """A proxy that routes nothing: JupyterHub keeps its routing table here.

    The Hub's API (hub_ip:hub_port/hub/api) is served by the Hub itself, so
    API-only use needs no proxy process at all.
    """

    should_start = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._routes = {}

    async def add_route(self, routespec, target, data):
        self._routes[routespec] = {
            "routespec": routespec,
            "target": target,
            "data": dict(data or {}),
        }

    async def delete_route(self, routespec):
        self._routes.pop(routespec, None)

    async def get_all_routes(self):
        return {k: dict(v) for k, v in self._routes.items()}


port = int(_env("DEV_HUB_PORT", "8081"))
state_dir = _env(
    "DEV_HUB_STATE_DIR",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                 ".cache", "dev", "jupyterhub"),
)
os.makedirs(state_dir, mode=0o700, exist_ok=True)

token = _env("DEV_HUB_SERVICE_TOKEN")
if token is None:
    token_file = _env("DEV_HUB_SERVICE_TOKEN_FILE")
    if token_file and os.path.exists(token_file):
        with open(token_file) as f:
            token = f.read().strip() or None
if token is None:
    raise SystemExit(
        "jupyterhub_config.py: set DEV_HUB_SERVICE_TOKEN or "
        "DEV_HUB_SERVICE_TOKEN_FILE (hub.sh start does this)"
    )

max_limit = int(_env("DEV_HUB_PAGE_MAX_LIMIT", "200"))
if max_limit < 1:
    raise SystemExit("DEV_HUB_PAGE_MAX_LIMIT must be >= 1")

users = _names(_env("DEV_HUB_USERS", "alice,bob,carol"))
admins = _names(_env("DEV_HUB_ADMINS", "carol"))

# --- network: loopback only, no proxy ------------------------------------
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = port
c.JupyterHub.hub_connect_ip = "127.0.0.1"
# Never listened on (NoopProxy), but keep it on loopback and away from 8000.
c.JupyterHub.bind_url = "http://127.0.0.1:%d/" % (port + 1)
c.JupyterHub.proxy_class = NoopProxy
c.JupyterHub.cleanup_servers = False

# --- state -----------------------------------------------------------------
c.JupyterHub.db_url = "sqlite:///" + os.path.join(state_dir, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(state_dir, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(state_dir, "jupyterhub.pid")
c.JupyterHub.log_level = _env("DEV_HUB_LOG_LEVEL", "INFO")

# --- users -----------------------------------------------------------------
# DummyAuthenticator: API-only tests never log in through the web form.
# allowed_users/admin_users are created in the Hub's database at start;
# users created later through the API stay allowed (allow_existing_users).
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = set(users) | set(admins)
c.Authenticator.admin_users = set(admins)
# The simple spawner needs no system users. Its "notebook server" is a stub
# (stub_server.py) that only answers HTTP: the gateway's reaper needs the
# Hub's view of whose server runs, not notebooks
# (POST/DELETE /hub/api/users/{name}/server start and stop it).
c.JupyterHub.spawner_class = "simple"
c.Spawner.cmd = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "stub_server.py")]
c.Spawner.start_timeout = 30
c.Spawner.http_timeout = 30

# --- API paging --------------------------------------------------------------
c.JupyterHub.api_page_max_limit = max_limit
c.JupyterHub.api_page_default_limit = min(50, max_limit)

# --- the gateway's service account -----------------------------------------
c.JupyterHub.services = [
    {"name": "livygate", "api_token": token, "display": False},
]
c.JupyterHub.load_roles = [
    {
        "name": "livygate",
        "description": "livygate: list users for HDFS sync; tests create users and tokens",
        "scopes": [
            "list:users",
            "read:users",
            "admin:users",  # create/delete users (tests)
            "tokens",  # create tokens for users (tests)
            "list:groups",
            "read:groups",
            "read:servers",  # the reaper: whose notebook server runs
            "admin:servers",  # start/stop servers (tests)
        ],
        "services": ["livygate"],
    }
]
