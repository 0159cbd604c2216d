"""Fetch the bytes of one file into its ``PartialFile``, part by part, resuming as needed.

Every request starts at the endpoint's ``/resolve/{commit}/{path}`` (huggingface.co then
redirects to its CDN with a fresh signed link, a mirror answers itself) and asks for
``Range: bytes=pos-end`` of its part. When a connection drops mid-body, the same endpoint
is asked again from the first missing byte; after ``MAX_STALLS`` attempts in a row that
bring nothing, the endpoint counts as down and the next one continues from there.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import aiohttp

from hubmirror.client.chain import Endpoints
from hubmirror.client.http import HubHttp
from hubmirror.client.partial import PartialFile
from hubmirror.client.parts import Part
from hubmirror.client.urls import file_url
from hubmirror.errors import UpstreamUnavailable
from hubmirror.hub.headers import X_HUBMIRROR_DOWNLOAD, download_tag
from hubmirror.types import RepoId

CHUNK = 1024 * 1024
MAX_STALLS = 3
_DROPS = (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, TimeoutError)


class _Dropped(Exception):
    """The body stopped before the part's end; worth asking again from where it stopped."""


@dataclass(frozen=True)
class FileSource:
    """Where one file's bytes come from, and what to tell as they arrive."""

    http: HubHttp
    endpoints: Endpoints
    repo: RepoId
    commit: str
    connections: asyncio.Semaphore
    on_bytes: Callable[[int], None]


async def fetch_file(source: FileSource, path: str, partial: PartialFile) -> str:
    """Fill every part of ``partial``, failing over between endpoints on outages.

    Returns the endpoint that delivered the last bytes (for messages).
    """

    async def attempt(endpoint: str) -> str:
        url = file_url(endpoint, source.repo, source.commit, path)
        parts = [part for part in partial.parts if part.remaining]
        tag = {X_HUBMIRROR_DOWNLOAD: download_tag(secrets.token_hex(8), len(parts))}
        try:
            async with asyncio.TaskGroup() as group:
                for part in parts:
                    group.create_task(_fetch_part(source, endpoint, url, part, partial, tag))
        except ExceptionGroup as failed:
            raise _most_telling(failed) from None
        return endpoint

    if not any(part.remaining for part in partial.parts):
        return "an earlier run"
    return await source.endpoints.call(path, attempt)


def _most_telling(group: ExceptionGroup) -> BaseException:
    """One error for a file whose parts failed: a refusal or corruption before an outage."""
    errors = list(_leaves(group))
    others = [e for e in errors if not isinstance(e, UpstreamUnavailable)]
    return (others or errors)[0]


def _leaves(error: BaseException):
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from _leaves(inner)
    else:
        yield error


async def _fetch_part(
    source: FileSource,
    endpoint: str,
    url: str,
    part: Part,
    partial: PartialFile,
    tag: Mapping[str, str],
) -> None:
    """Every request of one part carries ``tag``: the download (and how many parts it has)
    they belong to, so a mirror audits the file once, not once per range."""
    stalls = 0
    while part.remaining:
        before = part.pos
        async with source.connections:
            try:
                await _stream(source, endpoint, url, part, partial, tag)
            except _Dropped as exc:
                problem = str(exc)
            else:
                problem = "the body ended early"
        stalls = stalls + 1 if part.pos == before else 0
        if part.remaining and stalls >= MAX_STALLS:
            raise UpstreamUnavailable(f"{endpoint}: {problem} ({MAX_STALLS} times, no progress)")


async def _stream(
    source: FileSource,
    endpoint: str,
    url: str,
    part: Part,
    partial: PartialFile,
    tag: Mapping[str, str],
) -> None:
    """One request for the rest of ``part``; writes what arrives until it ends or drops."""
    whole = part.pos == 0 and part.end == partial.size
    headers = {"Accept-Encoding": "identity", **tag}
    if not whole:
        headers["Range"] = part.range_header()
    async with source.http.open(endpoint, url, headers) as response:
        skip = _bytes_to_skip(response, part, endpoint)
        try:
            async for chunk in response.content.iter_chunked(CHUNK):
                if skip:
                    cut = min(skip, len(chunk))
                    chunk, skip = chunk[cut:], skip - cut
                take = chunk[: part.remaining]
                if take:
                    partial.write(part, take)
                    source.endpoints.record(endpoint, len(take))
                    source.on_bytes(len(take))
                if not part.remaining:
                    return
        except _DROPS as exc:
            raise _Dropped(f"connection lost at byte {part.pos}: {type(exc).__name__}") from None


def _bytes_to_skip(response: aiohttp.ClientResponse, part: Part, endpoint: str) -> int:
    """A 206 must start at ``part.pos``; a 200 is the whole file, read past what we have."""
    if response.status != 206:
        return part.pos
    first = response.headers.get("Content-Range", "").removeprefix("bytes ").partition("-")[0]
    if first != str(part.pos):
        raise UpstreamUnavailable(f"{endpoint} answered the wrong range for byte {part.pos}")
    return 0
