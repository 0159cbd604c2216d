"""Bare HTTP for the fake hub's own tests: one request, no redirects, the raw answer."""

import http.client
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from tests.fakehub.defaults import TINY_BERT

CONFIG = f"/{TINY_BERT}/resolve/main/config.json"  # a regular file, served inline
WEIGHTS = f"/{TINY_BERT}/resolve/main/model.safetensors"  # an LFS file, redirected to the CDN


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)


def fetch(url: str, method: str = "GET", headers=None, body=None, timeout: float = 5.0) -> Reply:
    """One request, no redirects followed, the body read whole."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}
