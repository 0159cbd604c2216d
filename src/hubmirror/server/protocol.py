"""Hub-style answers for requests aiohttp rejects before any handler runs.

aiohttp answers an unparsable request (a header past its size limit, a broken
request line) with a plain-text page. Clients of the mirror expect the Hub's
shape everywhere, so those answers get ``X-Error-Code`` and a JSON body too.
Such a request never reaches the dispatcher, so it is handed the server's
context here: the access log and ``/metrics`` count it like any other.

aiohttp's own message quotes the offending bytes, which may be a header line
with a token in it: the answer and the log say only what kind of line was bad.

aiohttp has no public hook for that answer: ``RequestHandler.handle_error`` builds
it, so every connection gets a subclass of ``RequestHandler``, built with the
arguments aiohttp's own ``Server`` would give it. pyproject.toml pins the aiohttp
releases this holds for, and tests/server/test_aiohttp_internals.py fails, naming
what changed, when a new release breaks it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from aiohttp import http_exceptions as bad
from aiohttp import web

from hubmirror.hub.headers import X_ERROR_CODE, X_ERROR_MESSAGE, ErrorCode
from hubmirror.server.context import CONTEXT, ServerContext

log = logging.getLogger("hubmirror.server")

# Most specific first: what was wrong, in words that quote nothing the caller sent.
_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (bad.LineTooLong, "the request line or a header is too long"),
    (bad.BadHttpMethod, "unknown or invalid HTTP method"),
    (bad.InvalidURLError, "invalid characters in the URL"),
    (bad.InvalidHeader, "an invalid header"),
    (bad.BadStatusLine, "an invalid request line"),
    (bad.PayloadEncodingError, "an invalid request body"),
    (bad.BadHttpMessage, "an invalid header or too many headers"),
)
INTERNAL = "Internal error in the mirror; its log has the details."


def refusal_reason(exc: BaseException | None) -> str:
    """Why aiohttp refused a request, without the bytes it quotes."""
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return "an unreadable HTTP request"


class _HubRequestHandler(web.RequestHandler):
    def __init__(self, manager: HubServer, **kwargs) -> None:
        super().__init__(manager, **kwargs)
        self.context = manager.context

    def handle_error(self, request, status=500, exc=None, message=None):  # type: ignore[override]
        if request.get(CONTEXT) is None:  # refused by the HTTP parser, before the dispatcher
            request[CONTEXT] = self.context
        if status >= 500:  # a bug: aiohttp logs the traceback
            super().handle_error(request, status, exc, message)
            text, code = INTERNAL, "InternalError"
        else:  # the caller's mistake: not an error of ours, and never quoted back
            if request.writer.output_size > 0:
                raise ConnectionError("answer already started; cannot send an error")
            reason = refusal_reason(exc)
            log.debug("refused a malformed request from %s: %s", request.remote, reason)
            text, code = f"Malformed request: {reason}", ErrorCode.BAD_REQUEST
        resp = web.Response(
            status=status,
            body=json.dumps({"error": text}).encode(),
            content_type="application/json",
            headers={X_ERROR_CODE: str(code), X_ERROR_MESSAGE: text},
        )
        resp.force_close()
        return resp


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long a connection may keep the server waiting for a request.

    ``keepalive``: for the next request to arrive whole. aiohttp's timer starts when the
    connection opens and again after each answer, and bytes arriving do not restart it,
    so it bounds idle keep-alive and half-sent headers alike (0 = never). ``body``: for a
    request body, once its headers are in (0 = no limit).
    """

    keepalive: float = 75.0
    body: float = 30.0

    @property
    def aiohttp_keepalive(self) -> float:
        """aiohttp reads 0 as "close after each answer"; ours means "never"."""
        return self.keepalive or 10.0**9


DEFAULT_TIMEOUTS = Timeouts()


class HubServer(web.Server):
    """aiohttp's low-level server, with Hub-style answers for unparsable requests."""

    def __init__(self, handler, *, context: ServerContext, **handler_options) -> None:
        """``handler_options``: what every connection's ``RequestHandler`` is built with
        (``keepalive_timeout``, ``access_log_class``, ...), as for ``web.Server``."""
        super().__init__(handler, **handler_options)
        self.context = context
        self._handler_loop = asyncio.get_running_loop()  # as web.Server picks its loop
        self._handler_options = handler_options

    def __call__(self) -> web.RequestHandler:
        """A protocol for one new connection (the event loop calls this on accept)."""
        return _HubRequestHandler(self, loop=self._handler_loop, **self._handler_options)
