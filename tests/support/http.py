"""Tiny HTTP helpers for tests: raw answers (status, headers, body), no redirects followed."""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def request(
    method: str,
    url: str,
    headers: dict | None = None,
    body: bytes | None = None,
    timeout: float = 30,
) -> Answer:
    """One request on a fresh connection; the target is sent exactly as given."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    target = url[len(f"{parts.scheme}://{parts.netloc}") :] or "/"
    try:
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read() if method != "HEAD" else b""
        return Answer(resp.status, resp.headers, data)
    finally:
        conn.close()


def get(url: str, **kw) -> Answer:
    return request("GET", url, **kw)


def head(url: str, **kw) -> Answer:
    return request("HEAD", url, **kw)
