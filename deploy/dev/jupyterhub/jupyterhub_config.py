# JupyterHub configuration for livygate's dev/test stack.
#
# Started by deploy/dev/jupyterhub/hub.sh, which sets the environment below.
# Two shapes, everything bound to 127.0.0.1:
#
# - API only (the default; private Hubs of the integration tests): the Hub's
#   REST API (user listing, user tokens for the gateway's token login) with no
#   user-facing proxy (NoopProxy keeps the routing table in memory) and no
#   password login at all (every login form submission is refused).
# - Real notebooks (DEV_HUB_NOTEBOOKS=1, what stack.sh runs): users log in
#   against the stack's OpenLDAP (jupyterhub-ldapauthenticator, a direct bind as
#   uid=<name>,ou=people,...; DEV_HUB_LDAP_URL), configurable-http-proxy (npm)
#   is the public entry point, and SimpleLocalProcessSpawner runs each user's
#   JupyterLab as the Hub's own OS user with a home under the cache. Its
#   PySpark and Spark kernels (Sparkmagic) reach livygate with the user's own
#   Hub token (deploy/sparkmagic/livygate_auth.py, auth JupyterHubToken).
#
# Environment (all optional except the service token):
#   DEV_HUB_PORT                 hub port (default 8081): the Hub itself and its REST API
#   DEV_HUB_STATE_DIR            sqlite db + cookie secret (default: next to this file's cache)
#   DEV_HUB_SERVICE_TOKEN        api_token of the `livygate` service
#   DEV_HUB_SERVICE_TOKEN_FILE   ...or a file holding it (used if the variable is unset)
#   DEV_HUB_PAGE_MAX_LIMIT       api_page_max_limit (default 200, JupyterHub's default)
#   DEV_HUB_USERS                demo users created at start (default alice,bob,carol)
#   DEV_HUB_ADMINS               admins among them (default carol)
#   DEV_HUB_LOG_LEVEL            default INFO
#   DEV_HUB_LDAP_URL             ldap://127.0.0.1:PORT: log users in against this directory
#   DEV_HUB_LDAP_BIND_DN_TEMPLATE  default uid={username},ou=people,dc=livygate,dc=test
#   DEV_HUB_NOTEBOOKS            1: proxy + spawner (needs the variables below; hub.sh sets them)
#   DEV_HUB_PUBLIC_PORT          the proxy's public port (default 8000)
#   DEV_HUB_PROXY_API_PORT       the proxy's REST API port (default 8001)
#   DEV_HUB_CHP                  path of the configurable-http-proxy executable
#   DEV_HUB_SINGLEUSER           path of jupyterhub-singleuser (the venv's)
#   DEV_HUB_HOMES                folder of the per-user homes (<folder>/<user>)
#   DEV_HUB_JUPYTER_PATH         JUPYTER_PATH of the single-user servers (holds the kernelspecs)
#   DEV_HUB_JUPYTER_CONFIG_PATH  JUPYTER_CONFIG_PATH of the single-user servers
#   DEV_HUB_SPARKMAGIC_CONF_DIR  SPARKMAGIC_CONF_DIR of the single-user servers
#   DEV_HUB_SPARKMAGIC_PYTHONPATH  PYTHONPATH of the single-user servers (deploy/sparkmagic)

import os
import sys

from jupyterhub.auth import Authenticator
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


class NoLoginAuthenticator(Authenticator):
    """Refuses every login: an API-only Hub is used with tokens alone."""

    async def authenticate(self, handler, data):
        self.log.warning("login refused: this Hub has no password login (API only)")
        return None


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

notebooks = _env("DEV_HUB_NOTEBOOKS", "0") == "1"

# --- network: loopback only -------------------------------------------------
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = port
c.JupyterHub.hub_connect_ip = "127.0.0.1"
if notebooks:
    # configurable-http-proxy, started and stopped by the Hub, is where a
    # person logs in (bind_url); its REST API is for the Hub only. The Hub
    # generates the proxy's auth token at start and hands it over in the
    # proxy's environment (CONFIGPROXY_AUTH_TOKEN): it is stored nowhere.
    public_port = int(_env("DEV_HUB_PUBLIC_PORT", "8000"))
    proxy_api_port = int(_env("DEV_HUB_PROXY_API_PORT", "8001"))
    chp = _env("DEV_HUB_CHP")
    if not chp:
        raise SystemExit("jupyterhub_config.py: DEV_HUB_NOTEBOOKS=1 needs DEV_HUB_CHP (hub.sh sets it)")
    c.JupyterHub.bind_url = "http://127.0.0.1:%d/" % public_port
    c.JupyterHub.proxy_class = "configurable-http-proxy"
    c.ConfigurableHTTPProxy.command = [chp]
    c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:%d" % proxy_api_port
    c.ConfigurableHTTPProxy.pid_file = os.path.join(state_dir, "proxy.pid")
    c.ConfigurableHTTPProxy.debug = False
    # Stopping the Hub stops the proxy and every single-user server.
    c.JupyterHub.cleanup_servers = True
    c.JupyterHub.cleanup_proxy = True
else:
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
# allowed_users/admin_users are created in the Hub's database at start; users
# created later through the API (by the livygate service, by tests) stay
# allowed (allow_existing_users) and log in with their LDAP password.
c.Authenticator.allowed_users = set(users) | set(admins)
c.Authenticator.admin_users = set(admins)
c.Authenticator.allow_existing_users = True
ldap_url = _env("DEV_HUB_LDAP_URL")
if ldap_url:
    from urllib.parse import urlsplit

    u = urlsplit(ldap_url)
    if u.scheme != "ldap" or u.hostname != "127.0.0.1" or not u.port:
        raise SystemExit("DEV_HUB_LDAP_URL must be ldap://127.0.0.1:PORT, got %r" % ldap_url)
    c.JupyterHub.authenticator_class = "ldapauthenticator.LDAPAuthenticator"
    c.LDAPAuthenticator.server_address = u.hostname
    c.LDAPAuthenticator.server_port = u.port
    # Plain LDAP on loopback only (checked above), like the gateway's
    # allow_insecure in the dev stack; use before_bind (StartTLS) elsewhere.
    c.LDAPAuthenticator.tls_strategy = "insecure"
    # Bind as the user's own entry with the password typed in the form: no
    # search account, so no password of any kind in this file.
    c.LDAPAuthenticator.bind_dn_template = [
        _env("DEV_HUB_LDAP_BIND_DN_TEMPLATE", "uid={username},ou=people,dc=livygate,dc=test")
    ]
    c.LDAPAuthenticator.lookup_dn = False
else:
    c.JupyterHub.authenticator_class = NoLoginAuthenticator

if notebooks:
    # Every user's JupyterLab runs as the Hub's own OS user (a dev stack, not
    # isolation), in <homes>/<user>, listening on 127.0.0.1.
    def _need(name):
        value = _env(name)
        if not value:
            raise SystemExit("jupyterhub_config.py: DEV_HUB_NOTEBOOKS=1 needs %s (hub.sh sets it)" % name)
        return value

    c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
    c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(_need("DEV_HUB_HOMES"), "{username}")
    c.Spawner.cmd = [_need("DEV_HUB_SINGLEUSER")]
    c.Spawner.ip = "127.0.0.1"
    c.Spawner.default_url = "/lab"
    if os.geteuid() == 0:
        # Containers and CI often run everything as root; Jupyter refuses
        # that unless told (the servers are loopback-only here).
        c.Spawner.args = ["--allow-root"]
    c.Spawner.start_timeout = 120
    c.Spawner.http_timeout = 120
    # Keep the servers in the Hub's process group, so stopping the Hub's
    # group (hub.sh stop) can never leave one behind.
    c.LocalProcessSpawner.popen_kwargs = {"start_new_session": False}
    # The kernels find Sparkmagic's config (gateway URL, auth JupyterHubToken)
    # and its authenticator; JUPYTERHUB_API_TOKEN, the user's own token, is
    # set by the Hub itself.
    c.Spawner.environment = {
        "SPARKMAGIC_CONF_DIR": _need("DEV_HUB_SPARKMAGIC_CONF_DIR"),
        "PYTHONPATH": _need("DEV_HUB_SPARKMAGIC_PYTHONPATH"),
        "JUPYTER_PATH": _need("DEV_HUB_JUPYTER_PATH"),
        # labconfig/page_config.json: no announcements fetched from the internet.
        "JUPYTER_CONFIG_PATH": _need("DEV_HUB_JUPYTER_CONFIG_PATH"),
        "PYTHONUNBUFFERED": "1",
    }
else:
    # API only: the simple spawner needs no system users, and its "notebook
    # server" is a stub (stub_server.py) that only answers HTTP, enough for
    # the Hub's view of whose server runs (the gateway's reaper reads it).
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
