"""A stand-in for a single-user notebook server, for the dev stack's Hub.

The gateway's reaper only needs the Hub's view of whether a user's server
runs (GET /hub/api/users?state=active), so the Hub's spawner starts this
instead of jupyterhub-singleuser: it listens where the Hub says
(JUPYTERHUB_SERVICE_URL), answers every GET with 200 so the Hub sees it up,
and exits when the Hub stops it or when its parent (the Hub) goes away.
"""

import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = b'{"stub": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    url = urllib.parse.urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    server = ThreadingHTTPServer((url.hostname or "127.0.0.1", url.port), Handler)
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
