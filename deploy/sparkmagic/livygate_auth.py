"""Sparkmagic authenticator for livygate: the notebook's own JupyterHub token.

JupyterHub puts the user's API token in every single-user server's environment
as JUPYTERHUB_API_TOKEN, and kernels inherit it. livygate checks the token with
the Hub (GET /hub/api/user) and runs Spark as the user the Hub names, so nobody
types a password and nobody can claim another user's name.

Install: put this file on the kernel's Python path (for example in the
single-user image's site-packages) and register it in ~/.sparkmagic/config.json:

    "authenticators": {"JupyterHubToken": "livygate_auth.JupyterHubToken", ...},
    "kernel_python_credentials": {"url": "https://livygate:8999", "auth": "JupyterHubToken"}
"""

import os

from sparkmagic.auth.customauth import Authenticator

TOKEN_ENV = "JUPYTERHUB_API_TOKEN"


class JupyterHubToken(Authenticator):
    """Sends `Authorization: token <JUPYTERHUB_API_TOKEN>` on every request."""

    def __call__(self, request):
        token = os.environ.get(TOKEN_ENV, "")
        if not token:
            # A clear message in the notebook instead of a bare 401.
            raise RuntimeError(
                TOKEN_ENV + " is not set: start this kernel from a JupyterHub "
                "single-user server, or use Basic_Access credentials")
        request.headers["Authorization"] = "token " + token
        return request

    def __hash__(self):
        return hash((self.url, self.__class__.__name__))
