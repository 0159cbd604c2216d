"""A client that leaves mid-download is one access-log line marked cut short, at INFO.

Clients leave all the time (a download cancelled, a notebook restarted): that is no error
of the mirror, so it logs no ERROR and no traceback, from hubmirror or from aiohttp. Each
client here asks over a raw socket, reads a part of a large body and resets the connection.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import socket
import struct
from urllib.parse import urlsplit

import pytest

from hubmirror.server.app import start_server
from tests.fakehub import TINY_BERT
from tests.support.http import get, head
from tests.support.waiting import wait_for
from tests.xet import cas_support as cas

pytestmark = pytest.mark.timeout(90)

MiB = 1024 * 1024
SIZE = 16 * MiB  # far more than socket buffers hold: the server is still writing when reset
ACCESS = "hubmirror.access"


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.INFO)
    return caplog


def _leave_mid_body(port: int, target: str, headers: dict[str, str] | None = None) -> bytes:
    """GET ``target``, read its head and some of its body, then reset the connection.
    Returns the body bytes received."""
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    with socket.socket() as conn:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        conn.connect(("127.0.0.1", port))
        conn.sendall(f"GET {target} HTTP/1.1\r\nHost: m\r\n{extra}\r\n".encode())
        received = b""
        while len(received.partition(b"\r\n\r\n")[2]) < 100_000:
            chunk = conn.recv(65536)
            assert chunk, received[:300]
            received += chunk
        assert received.startswith((b"HTTP/1.1 200 ", b"HTTP/1.1 206 ")), received[:300]
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
    return received.partition(b"\r\n\r\n")[2]


def _access_lines(logs, path: str) -> list[logging.LogRecord]:
    return [r for r in logs.records if r.name == ACCESS and f" {path} " in r.getMessage()]


def _assert_one_quiet_cut_short_line(logs, mirror, path: str, received: int, size: int) -> str:
    """The request for ``path`` left no error and one INFO access line marked cut short,
    with the body bytes sent (at least those received, fewer than the body's); returns it."""

    def over():  # the server logged the request's line, or an error instead
        errors = [r for r in logs.records if r.levelno >= logging.ERROR]
        return _access_lines(logs, path) or errors

    wait_for(over, f"the server to be done with {path}")
    assert get(mirror.url + "/healthz").status == 200  # logged after any other line for path
    wait_for(lambda: _access_lines(logs, "/healthz"), "the /healthz access line")
    errors = [(r.name, r.getMessage()) for r in logs.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert "Traceback" not in logs.text
    lines = _access_lines(logs, path)
    assert [(r.levelno, r.exc_info) for r in lines] == [(logging.INFO, None)]
    message = lines[0].getMessage()
    assert message.endswith(" cut-short: client disconnected"), message
    sent = int(message.split()[3])
    assert received <= sent < size
    return message


def test_a_client_leaving_a_stored_download_is_one_info_line_marked_cut_short(
    mirror, fakehub, logs
):
    fakehub.add_large_file("model", TINY_BERT, "big.bin", SIZE, seed=3)
    path = f"/{TINY_BERT}/resolve/main/big.bin"
    assert len(get(mirror.url + path).body) == SIZE  # stored: the next GET reads the disk
    wait_for(lambda: _access_lines(logs, path), "the first GET's access line")
    logs.clear()

    body = _leave_mid_body(mirror.port, path)

    line = _assert_one_quiet_cut_short_line(logs, mirror, path, len(body), SIZE)
    assert line.startswith(f"GET {path} 200 ") and " HIT " in line
    assert body == fakehub.file_bytes("model", TINY_BERT, "main", "big.bin")[: len(body)]


def test_a_client_leaving_a_fill_is_one_info_line_and_the_fill_goes_on(mirror, fakehub, logs):
    sha256 = fakehub.add_large_file("model", TINY_BERT, "fill.bin", SIZE, seed=4)
    fakehub.faults.bandwidth = 8 * MiB  # the fill takes about 2 s: the client leaves midway
    path = f"/{TINY_BERT}/resolve/main/fill.bin"

    body = _leave_mid_body(mirror.port, path)

    line = _assert_one_quiet_cut_short_line(logs, mirror, path, len(body), SIZE)
    assert line.startswith(f"GET {path} 200 ") and " MISS " in line
    wait_for(lambda: head(mirror.url + path).header("X-Cache-Status") == "HIT", "the fill stored")
    answer = get(mirror.url + path)
    assert hashlib.sha256(answer.body).hexdigest() == sha256


def test_a_client_leaving_a_direct_range_read_is_one_info_line(mirror, fakehub, logs):
    size = 32 * MiB
    fakehub.add_large_file("model", TINY_BERT, "far.bin", size, seed=5)
    fakehub.faults.bandwidth = 4 * MiB  # the range, far ahead of the fill, is read directly
    path = f"/{TINY_BERT}/resolve/main/far.bin"

    body = _leave_mid_body(mirror.port, path, {"Range": f"bytes={size // 2}-"})

    line = _assert_one_quiet_cut_short_line(logs, mirror, path, len(body), size // 2)
    assert line.startswith(f"GET {path} 206 ") and " MISS " in line
    data = fakehub.file_bytes("model", TINY_BERT, "main", "far.bin")
    assert body == data[size // 2 : size // 2 + len(body)]


def test_a_client_leaving_a_xorb_download_is_one_info_line(make_mirror, fakehub, logs):
    server = make_mirror(xet_serve=True)
    fakehub.add_large_file("model", TINY_BERT, "xorb.bin", SIZE, seed=6)
    served = cas.fill(server, "xorb.bin")
    answer = cas.reconstruction(server, served.xet_hash, token_value=cas.token(server)[0])
    descriptors = cas.fetch_descriptors(json.loads(answer.body), 2)
    _chunks, url, byte_range = max(
        (d for found in descriptors.values() for d in found),
        key=lambda d: d[2]["end"] - d[2]["start"],
    )
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    length = byte_range["end"] - byte_range["start"] + 1
    assert length > 8 * MiB  # more than the socket buffers hold
    logs.clear()

    body = _leave_mid_body(
        server.port, target, {"Range": f"bytes={byte_range['start']}-{byte_range['end']}"}
    )

    line = _assert_one_quiet_cut_short_line(logs, server, parts.path, len(body), length)
    assert line.startswith(f"GET {parts.path} 206 ")


class _BuggyMirror:
    """Just enough of a Mirror for the server to start, with a bug where callers are told
    apart: every request for a file then meets an exception no one expected."""

    auditing = False

    def listening_on(self, host: str, port: int) -> None:
        pass

    def count_request(self, kind: str, status: int, cache: str, sent: int, repo=None) -> None:
        pass

    def identify(self, address: str, authorization: str | None):
        raise RuntimeError("a bug in the mirror")


async def test_a_bug_in_a_handler_still_logs_its_traceback_and_answers_500(logs):
    runner, port = await start_server(_BuggyMirror(), "127.0.0.1", 0)  # type: ignore[arg-type]
    path = f"/{TINY_BERT}/resolve/main/config.json"
    try:
        answer = await asyncio.to_thread(get, f"http://127.0.0.1:{port}{path}")
        end = asyncio.get_running_loop().time() + 20
        while not _access_lines(logs, path) and asyncio.get_running_loop().time() < end:
            await asyncio.sleep(0.01)
    finally:
        await runner.cleanup()
    assert (answer.status, answer.header("X-Error-Code")) == (500, "InternalError")
    assert b"a bug in the mirror" not in answer.body
    bugs = [r for r in logs.records if r.levelno == logging.ERROR and r.exc_info]
    assert [str(r.exc_info[1]) for r in bugs] == ["a bug in the mirror"]
    assert "Traceback" in logs.text
    assert [r.getMessage().split()[:3] for r in _access_lines(logs, path)] == [["GET", path, "500"]]


def test_a_client_leaving_an_admin_sync_stream_is_one_info_line(make_mirror, fakehub, logs):
    server = make_mirror(admin_token="admin-secret")
    fakehub.add_large_file("model", TINY_BERT, "synced.bin", SIZE, seed=7)
    fakehub.faults.bandwidth = 2 * MiB  # the sync runs for seconds: progress lines keep coming
    body = json.dumps({"repo": TINY_BERT}).encode()
    with socket.socket() as conn:
        conn.connect(("127.0.0.1", server.port))
        conn.sendall(
            b"POST /admin/sync HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer admin-secret\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        received = b""
        while b'"progress"' not in received:
            chunk = conn.recv(65536)
            assert chunk, received[:300]
            received += chunk
        assert received.startswith(b"HTTP/1.1 200 "), received[:300]
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST

    wait_for(lambda: _access_lines(logs, "/admin/sync"), "the sync's access line", timeout=30)
    assert get(server.url + "/healthz").status == 200
    errors = [(r.name, r.getMessage()) for r in logs.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert "Traceback" not in logs.text
    lines = _access_lines(logs, "/admin/sync")
    assert [(r.levelno, r.exc_info) for r in lines] == [(logging.INFO, None)]
    assert lines[0].getMessage().endswith(" cut-short: client disconnected")
