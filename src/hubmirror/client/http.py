"""HTTP for the download client: one aiohttp session, the token rules, status → errors.

* The token goes only to the endpoint's own origin. Redirects are followed by hand so
  that a hop to another host (huggingface.co's CDN) never carries ``Authorization``.
* Statuses become ``hubmirror.errors``: 401/403/404 and other 4xx are the Hub's answer
  (``HubRefusal`` and friends, final); 408/416/429/5xx and transport failures are
  ``UpstreamUnavailable`` (the caller tries the next mirror). The rules are the ones
  ``hubmirror.hub.statuses`` sets for the server, seen from a client.
* File bodies are asked with ``Accept-Encoding: identity``: sizes and offsets are bytes of
  the file itself.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp

from hubmirror import __version__
from hubmirror.client.urls import follow, same_origin
from hubmirror.errors import (
    UpstreamTimeout,
    UpstreamUnavailable,
)
from hubmirror.hub import headers as h
from hubmirror.hub.statuses import hub_error

USER_AGENT = f"hubmirror/{__version__} (download client)"
TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=30)
MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class HubHttp:
    """The session of one download run, with its token."""

    def __init__(self, session: aiohttp.ClientSession, token: str | None) -> None:
        self.session = session
        self.token = token

    def headers_for(self, endpoint: str, url: str, extra: Mapping[str, str] = {}) -> dict:
        """Request headers; ``Authorization`` only while on the endpoint's origin."""
        headers = {"User-Agent": USER_AGENT, **extra}
        if self.token and same_origin(url, endpoint):
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    async def get_json(self, endpoint: str, url: str) -> tuple[Any, str | None]:
        """One JSON answer and the absolute URL of its ``Link: rel="next"`` page, if any."""
        async with (
            _transport_errors(endpoint),
            self.open(endpoint, url, {"Accept": "application/json"}) as response,
        ):
            body = await response.read()
            next_link = h.parse_link_next(response.headers.get("Link"))
            final_url = str(response.url)
        try:
            return json.loads(body), follow(final_url, next_link) if next_link else None
        except ValueError:
            raise UpstreamUnavailable(f"{endpoint} answered {url} with no JSON") from None

    @contextlib.asynccontextmanager
    async def open(
        self, endpoint: str, url: str, extra: Mapping[str, str] = {}
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """A successful response to ``GET url``, redirects followed; errors raised."""
        async with _transport_errors(endpoint):
            response = await self._follow(endpoint, url, extra)
        try:
            raise_for_status(response.status, response.headers, endpoint)
            yield response
        finally:
            _let_go(response)

    async def _follow(self, endpoint: str, url: str, extra: Mapping[str, str]):
        for _ in range(MAX_REDIRECTS + 1):
            headers = self.headers_for(endpoint, url, extra)
            response = await self.session.get(url, headers=headers, allow_redirects=False)
            location = response.headers.get("Location")
            if response.status not in _REDIRECTS or not location:
                return response
            response.close()
            url = follow(url, location)
        raise UpstreamUnavailable(f"{endpoint}: more than {MAX_REDIRECTS} redirects")


def _let_go(response: aiohttp.ClientResponse) -> None:
    """Back to the pool if the body was read to the end; otherwise the connection is closed."""
    if response.content.is_eof():
        response.release()
    else:
        response.close()


def open_session(token: str | None) -> contextlib.AbstractAsyncContextManager[HubHttp]:
    """``async with open_session(token) as http:``; proxies from the environment apply."""

    @contextlib.asynccontextmanager
    async def session() -> AsyncIterator[HubHttp]:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(
            connector=connector, timeout=TIMEOUT, trust_env=True
        ) as client:
            yield HubHttp(client, token)

    return session()


@contextlib.asynccontextmanager
async def _transport_errors(endpoint: str) -> AsyncIterator[None]:
    """A connection that fails or stays silent is an outage of that endpoint."""
    try:
        yield
    except TimeoutError:
        raise UpstreamTimeout(f"{endpoint} timed out") from None
    except aiohttp.ClientError as exc:
        raise UpstreamUnavailable(f"{endpoint} unreachable: {_reason(exc)}") from None


def raise_for_status(status: int, headers: Mapping[str, str], endpoint: str) -> None:
    """The Hub's answer as an error: refusals are final, outages send us elsewhere."""
    if status < 400:
        return
    message = (
        f"{headers.get(h.X_ERROR_MESSAGE) or _default_message(status)} ({status} from {endpoint})"
    )
    if status == 416:  # its copy is shorter than the listing: another mirror may do better
        raise UpstreamUnavailable(f"{endpoint} cannot serve that range (416): its file is short")
    if status == 408 or status >= 500:
        raise UpstreamUnavailable(message)
    raise hub_error(status, headers, message=message)


def _default_message(status: int) -> str:
    return {401: "not authorized", 403: "forbidden", 404: "not found"}.get(status, "refused")


def _reason(exc: aiohttp.ClientError) -> str:
    cause = getattr(exc, "os_error", None) or exc
    return f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
