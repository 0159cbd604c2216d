"""Connections that never finish a request are let go: idle keep-alive and half-sent
headers are closed after keepalive_timeout, a trickling body gets a 408 after
body_timeout. (Each wait below has a deadline many times the timeout; nothing is timed.)"""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.support.http import get

DEADLINE = 20.0  # seconds to wait for the server to act; the timeouts set are 1 s


@pytest.fixture
def strict(make_mirror, fakehub):
    return make_mirror(keepalive_timeout=1.0, body_timeout=1.0)


def _connect(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; fails the test past the deadline."""
    received = b""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        sock.settimeout(max(0.1, end - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            return received
        received += chunk
    pytest.fail(f"the server kept the connection open for {DEADLINE} s")


def test_a_connection_that_sends_nothing_is_closed(strict):
    with _connect(strict) as sock:
        assert _read_until_closed(sock) == b""


def test_half_sent_headers_are_closed(strict):
    with _connect(strict) as sock:
        sock.sendall(b"GET /acme/tiny-bert/resolve/main/config.json HTTP/1.1\r\nHost: x\r\n")
        for _ in range(3):  # a trickle does not keep it open
            time.sleep(0.4)
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
        assert _read_until_closed(sock) == b""


def test_an_idle_kept_alive_connection_is_closed_after_its_answer(strict):
    with _connect(strict) as sock:
        sock.sendall(b"GET /api/models/acme/tiny-bert HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["id"] == "acme/tiny-bert"


def test_a_trickling_body_gets_408(strict):
    with _connect(strict) as sock:
        sock.sendall(
            b"POST /api/models/acme/tiny-bert/paths-info/main HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
            b"paths=con"
        )
        answer = _read_until_closed(sock)
    head = answer.split(b"\r\n\r\n", 1)[0].decode().lower()
    assert head.startswith("http/1.1 408")
    assert "x-error-code: requesttimeout" in head


def test_a_prompt_client_is_not_disturbed(strict):
    for _ in range(3):
        assert get(f"{strict.url}/api/models/acme/tiny-bert").status == 200
