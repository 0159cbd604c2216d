"""deploy/nginx/hubmirror.conf in front of a live mirror, with TLS: files stream through
unchanged and the mirror's Link URLs point at the proxy's https address."""

from __future__ import annotations

import http.client
import json
import ssl
import subprocess
from pathlib import Path

import pytest

from tests.config.test_deploy_files import DEPLOY, certificate
from tests.support import system
from tests.support.ports import free_port, wait_listening

MODEL = "acme/tiny-bert"
MANY = "acme/many-files"


def _nginx_config(tmp_path: Path, mirror_port: int, port: int) -> Path:
    """The example site, pointed at this mirror and port, with every path in ``tmp_path``."""
    site = (DEPLOY / "nginx" / "hubmirror.conf").read_text()
    site = site.replace("mirror:8080", f"127.0.0.1:{mirror_port}")
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
    site = site.replace("/etc/nginx/certs", str(tmp_path))
    (tmp_path / "site.conf").write_text(site)
    temp = "".join(
        f"{kind}_temp_path {tmp_path}/{kind}; "
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"daemon off;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{ access_log off; {temp}include {tmp_path}/site.conf; }}\n"
    )
    return config


@pytest.fixture
def proxy(make_mirror, fakehub, tmp_path):
    """A mirror behind the example nginx site; yields (port, mirror)."""
    server = make_mirror()
    certificate(tmp_path)
    port = free_port()
    config = _nginx_config(tmp_path, server.port, port)
    nginx = subprocess.Popen(
        [system.require("nginx"), "-p", str(tmp_path), "-c", str(config)],
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_listening(port, nginx)
    yield port, server
    nginx.terminate()
    nginx.wait(10)


def _get(port: int, path: str) -> http.client.HTTPResponse:
    context = ssl._create_unverified_context()  # the test's self-signed certificate
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
    conn.request("GET", path)
    return conn.getresponse()


def test_files_stream_through_nginx_unchanged(proxy, fakehub):
    port, _server = proxy
    answer = _get(port, f"/{MODEL}/resolve/main/model.safetensors")
    body = answer.read()
    assert (answer.status, answer.getheader("X-Cache-Status")) == (200, "MISS")
    assert body == fakehub.file_bytes("model", MODEL, "main", "model.safetensors")


def test_links_point_at_the_https_proxy(proxy, fakehub):
    port, _server = proxy
    answer = _get(port, f"/api/models/{MANY}/tree/main?recursive=true&expand=false")
    assert answer.status == 200
    assert json.loads(answer.read())
    link = answer.getheader("Link")
    assert link.startswith(f"<https://127.0.0.1:{port}/api/models/{MANY}/tree/main?")
