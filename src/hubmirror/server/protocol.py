"""Hub-style answers for requests aiohttp rejects before any handler runs.

aiohttp answers an unparsable request (a header past its size limit, a broken
request line) with a plain-text page. Clients of the mirror expect the Hub's
shape everywhere, so those answers get ``X-Error-Code`` and a JSON body too.
"""

from __future__ import annotations

import json

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from hubmirror.hub.headers import X_ERROR_CODE, X_ERROR_MESSAGE, ErrorCode


class _HubRequestHandler(RequestHandler):
    def handle_error(self, request, status=500, exc=None, message=None):  # type: ignore[override]
        plain = super().handle_error(request, status, exc, message)
        code = ErrorCode.BAD_REQUEST if status < 500 else "InternalError"
        text = "Malformed request: " + " ".join(str(message or plain.reason).split())[:300]
        resp = web.Response(
            status=status,
            body=json.dumps({"error": text}).encode(),
            content_type="application/json",
            headers={
                X_ERROR_CODE: str(code),
                X_ERROR_MESSAGE: text.encode("ascii", "replace").decode(),
            },
        )
        resp.force_close()
        return resp


class HubServer(web.Server):
    """aiohttp's low-level server, with Hub-style answers for unparsable requests."""

    def __call__(self) -> RequestHandler:
        return _HubRequestHandler(self, loop=self._loop, **self._kwargs)
