"""A real Prometheus (Debian's) scrapes the stack's gateway: /metrics on the
main listener as an admin (carol, basic auth, as an operator would set it
up), and every query of the Grafana dashboard in deploy/grafana runs on what
it scraped."""

import json
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests

from conftest import REPO, free_port, wait_until

DASHBOARD = REPO / "deploy" / "grafana" / "livygate-dashboard.json"


@pytest.fixture(scope="module")
def prometheus(stack):
    subprocess.run(["bash", str(REPO / "deploy/dev/prometheus/prometheus.sh"), "install"], check=True)
    binary = subprocess.run(["bash", str(REPO / "deploy/dev/prometheus/prometheus.sh"), "bin"],
                            check=True, capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="livygate-prometheus-") as tmp:
        tmp = Path(tmp)
        (tmp / "carol.pw").write_text(stack.passwords["carol"])
        (tmp / "carol.pw").chmod(0o600)
        gw = urlparse(stack.gateway)
        (tmp / "prometheus.yml").write_text(json.dumps({  # YAML reads JSON
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{
                "job_name": "livygate",
                "scheme": gw.scheme,
                "static_configs": [{"targets": [gw.netloc]}],
                "basic_auth": {"username": "carol", "password_file": str(tmp / "carol.pw")},
            }],
        }))
        port = free_port()
        log = open(tmp / "prometheus.log", "w")
        proc = subprocess.Popen([binary, f"--config.file={tmp / 'prometheus.yml'}", f"--storage.tsdb.path={tmp / 'data'}",
                                 f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()


def query(prom, expr):
    r = requests.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=10)
    assert r.status_code == 200, f"{expr}: {r.status_code} {r.text}"
    body = r.json()
    assert body["status"] == "success", f"{expr}: {body}"
    return body["data"]["result"]


def test_prometheus_scrapes_the_gateway_and_the_dashboard_queries_run(stack, prometheus):
    # Some traffic of each kind: a user's list, a refused login.
    assert stack.call("alice", "GET", "/sessions").status_code == 200
    assert stack.call("alice", "GET", "/sessions", auth=("alice", "wrong-password")).status_code == 401
    assert stack.call("alice", "GET", "/metrics").status_code == 403  # users do not read the metrics

    def scraped():
        try:
            up = query(prometheus, 'up{job="livygate"}')
        except (requests.ConnectionError, AssertionError):
            return None
        return up and up[0]["value"][1] == "1" and query(prometheus, 'livygate_http_requests_total{route="livy"}')
    wait_until("Prometheus to scrape the gateway", scraped, 60, step=1)

    build = query(prometheus, "livygate_build_info")
    assert build and build[0]["metric"]["version"], build
    invalid = query(prometheus, 'livygate_authentications_total{method="basic",outcome="invalid"}')
    assert invalid and float(invalid[0]["value"][1]) >= 1, invalid

    names = set(requests.get(f"{prometheus}/api/v1/label/__name__/values", timeout=10).json()["data"])
    for series in names:
        assert "alice" not in series and "carol" not in series
    labels = requests.get(f"{prometheus}/api/v1/series", params={"match[]": '{job="livygate"}'}, timeout=10).json()["data"]
    for s in labels:
        for value in s.values():
            assert value not in ("alice", "bob", "carol"), s  # no user name is a label value

    dashboard = json.loads(DASHBOARD.read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            query(prometheus, target["expr"])  # each one parses and runs on real data
