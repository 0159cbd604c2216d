"""What the server relies on in aiohttp beyond its documented API; fails naming what changed.

``server/protocol.py`` subclasses ``web.RequestHandler`` to answer requests the parser
refuses in the Hub's shape, and builds it the way ``web.Server`` does. Its ``Timeouts``
count on how aiohttp's keep-alive timer runs. ``server/app.py`` hands a body that broke off
(the client left) back to aiohttp as the handler's answer, counting on aiohttp to log it once
and nothing else, while a handler's exception is logged with its traceback. pyproject.toml
pins the aiohttp releases known to behave so; when a new release is allowed, these tests say
what to adapt.
Each test runs a bare ``HubServer`` (no mirror) and speaks raw HTTP to it.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from hubmirror.server.context import CONTEXT, ServerContext
from hubmirror.server.protocol import HubServer, Timeouts

DEADLINE = 20.0  # seconds to wait for the server to act; the keep-alive timeout set is 0.5 s
KEEPALIVE = 0.5
CHANGED = f"aiohttp {aiohttp.__version__} changed what server/protocol.py relies on: "


ACCESS = "tests.internals.access"


async def _answer(request: web.BaseRequest) -> web.StreamResponse:
    if request.path == "/boom":
        raise RuntimeError("a bug in a handler")
    if request.path in ("/boom-mid-body", "/cut", "/cut-chunked"):
        return await _partial(request)
    return web.Response(text="ok", headers={"X-Context": str(request.get(CONTEXT) is not None)})


async def _partial(request: web.BaseRequest) -> web.StreamResponse:
    """10 bytes of a longer body, then a bug, or the connection dropped and the answer
    handed back (as server/app.py does when the client left)."""
    resp = web.StreamResponse()
    if request.path != "/cut-chunked":
        resp.content_length = 1000
    await resp.prepare(request)
    await resp.write(b"0123456789")
    if request.path == "/boom-mid-body":
        raise RuntimeError("a bug in a handler, mid-body")
    request.transport.abort()
    resp.force_close()
    return resp


class _AccessLines(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s", request.path, response.status)


@pytest.fixture
async def server() -> AsyncIterator[tuple[HubServer, int]]:
    hub_server = HubServer(
        _answer,
        context=ServerContext(mirror=None),  # type: ignore[arg-type]  # no request reaches it
        keepalive_timeout=Timeouts(keepalive=KEEPALIVE).aiohttp_keepalive,
        access_log_class=_AccessLines,
        access_log=logging.getLogger(ACCESS),
    )
    runner = web.ServerRunner(hub_server, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield hub_server, runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def _until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection."""
    try:
        return await asyncio.wait_for(reader.read(), DEADLINE)
    except TimeoutError:
        pytest.fail(CHANGED + f"the connection stayed open for {DEADLINE} s")


def _parse(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body


def test_request_handler_keeps_the_signatures_the_server_calls():
    built = inspect.signature(web.RequestHandler.__init__).parameters
    for name in ("manager", "loop", "keepalive_timeout", "access_log_class", "access_log"):
        assert name in built, CHANGED + f"RequestHandler.__init__ takes no {name!r}"
    assert built["loop"].kind is inspect.Parameter.KEYWORD_ONLY, CHANGED + "loop= is positional"
    handle_error = list(inspect.signature(web.RequestHandler.handle_error).parameters)
    assert handle_error == ["self", "request", "status", "exc", "message"], (
        CHANGED + f"RequestHandler.handle_error takes {handle_error[1:]}"
    )


async def test_every_connection_is_served_by_the_servers_own_request_handler(server):
    hub_server, port = server
    reader, writer = await _connect(port)
    writer.write(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.wait_for(reader.readuntil(b"ok"), DEADLINE)
    kinds = {type(handler).__name__ for handler in hub_server.connections}
    writer.close()
    assert kinds == {"_HubRequestHandler"}, (
        CHANGED + f"connections are {kinds}: web.Server.__call__ no longer builds them"
    )


async def test_a_request_the_parser_refuses_gets_the_hub_style_answer(server):
    _, port = server
    reader, writer = await _connect(port)
    writer.write(b"GET /acme/tiny\x01bert HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = _parse(await _until_closed(reader))
    writer.close()
    assert (status, headers.get("x-error-code")) == (400, "BadRequest"), (
        CHANGED + "handle_error no longer answers what the parser refuses"
    )
    assert json.loads(body) == {"error": "Malformed request: invalid characters in the URL"}
    assert headers["x-error-message"] == "Malformed request: invalid characters in the URL"


async def test_a_handler_that_fails_gets_a_hub_style_500(server, caplog):
    _, port = server
    reader, writer = await _connect(port)
    writer.write(b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = _parse(await _until_closed(reader))
    writer.close()
    assert (status, headers.get("x-error-code")) == (500, "InternalError"), (
        CHANGED + "handle_error is no longer called for a handler's exception"
    )
    assert b"a bug in a handler" not in body
    assert _tracebacks(caplog) == ["a bug in a handler"], CHANGED + "a bug is not logged"


async def test_a_handler_that_fails_mid_body_logs_its_traceback(server, caplog):
    _, port = server
    reader, writer = await _connect(port)
    writer.write(b"GET /boom-mid-body HTTP/1.1\r\nHost: x\r\n\r\n")
    status, _, body = _parse(await _until_closed(reader))
    writer.close()
    assert (status, body) == (200, b"0123456789")  # cut: never a clean end after a bug
    assert _tracebacks(caplog) == ["a bug in a handler, mid-body"], (
        CHANGED + "a bug after the headers went out is not logged"
    )


@pytest.mark.parametrize("path", ["/cut", "/cut-chunked"])
async def test_a_broken_off_answer_handed_back_is_logged_once_and_as_no_error(server, caplog, path):
    caplog.set_level(logging.INFO, logger=ACCESS)
    _, port = server
    reader, writer = await _connect(port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    status, _, body = _parse(await _until_closed(reader))
    writer.close()
    assert status == 200 and b"0123456789" in body
    assert not body.endswith(b"0\r\n\r\n"), "a chunked body ended cleanly after a cut"
    end = asyncio.get_running_loop().time() + DEADLINE
    while not _access(caplog) and asyncio.get_running_loop().time() < end:
        await asyncio.sleep(0.01)
    assert _access(caplog) == [f"{path} 200"], CHANGED + "the answer was not logged once"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [], (
        CHANGED + "an answer whose connection is gone is logged as an error"
    )


def _tracebacks(caplog) -> list[str]:
    """The messages of the exceptions logged with their traceback at ERROR."""
    return [
        str(r.exc_info[1])
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.exc_info and r.exc_info[1] is not None
    ]


def _access(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == ACCESS]


async def test_a_connection_that_sends_nothing_is_closed_after_keepalive_timeout(server):
    _, port = server
    reader, writer = await _connect(port)
    assert await _until_closed(reader) == b"", CHANGED + "an idle new connection got an answer"
    writer.close()


async def test_an_answered_connection_left_idle_is_closed_after_keepalive_timeout(server):
    _, port = server
    reader, writer = await _connect(port)
    writer.write(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = _parse(await _until_closed(reader))
    writer.close()
    assert (status, body) == (200, b"ok")
    assert headers["x-context"] == "False"  # a parsed request reaches the handler untouched


async def test_headers_that_keep_trickling_do_not_keep_the_connection_open(server):
    """Bytes arriving do not restart the timer: half-sent headers are bounded too."""
    _, port = server
    reader, writer = await _connect(port)
    writer.write(b"GET /ok HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    closed = asyncio.ensure_future(reader.read())
    end = asyncio.get_running_loop().time() + DEADLINE
    while not closed.done():
        if asyncio.get_running_loop().time() > end:
            closed.cancel()
            pytest.fail(CHANGED + "each byte that arrives restarts the keep-alive timer")
        try:
            writer.write(b"a")  # one byte of one header line, far below any size limit
            await writer.drain()
        except ConnectionError:
            break
        await asyncio.wait([closed], timeout=KEEPALIVE / 5)
    assert await closed == b"", CHANGED + "half-sent headers got an answer instead of a close"
    writer.close()
