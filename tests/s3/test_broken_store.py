"""A store that breaks mid-answer or keeps failing: an outage, never a short blob."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hubmirror.errors import StoreMisconfigured, StoreUnavailable
from tests.s3.conftest import open_store

DIGEST = "ab" * 32


class _Broken(BaseHTTPRequestHandler):
    """HEAD answers ``head_status``; GET promises 1000 bytes, sends 10 and hangs up."""

    protocol_version = "HTTP/1.1"
    head_status = 200
    seen: list[str] = []

    def do_HEAD(self):
        self.seen.append("HEAD")
        self.send_response(self.head_status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.seen.append("GET")
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"x" * 10)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def broken_store_server():
    handler = type("Handler", (_Broken,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


async def test_body_cut_short_is_store_unavailable(broken_store_server):
    endpoint, _ = broken_store_server
    store = await open_store(endpoint, "s3://bucket/p", attempts=1)
    received = []
    try:
        with pytest.raises(StoreUnavailable) as caught:
            async with store.open_range(DIGEST) as body:
                assert body.length == 1000
                async for chunk in body.iter_chunks():
                    received.append(chunk)
    finally:
        await store.close()
    assert not isinstance(caught.value, StoreMisconfigured)
    assert sum(map(len, received)) < 1000
    assert "\n" not in caught.value.message


async def test_a_store_answering_503_is_retried_then_unavailable(broken_store_server):
    endpoint, handler = broken_store_server
    handler.head_status = 503
    with pytest.raises(StoreUnavailable, match="503") as caught:
        await open_store(endpoint, "s3://bucket/p", attempts=2)
    assert not isinstance(caught.value, StoreMisconfigured)
    assert handler.seen == ["HEAD", "HEAD"]
