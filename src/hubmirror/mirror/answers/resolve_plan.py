"""What to do with one ``/resolve/`` request, decided before a byte is sent: the plan.

``plan_resolve`` takes the request (``ResolveAsk``), the file's answer and the few
things only the mirror can look up (``ResolveSources``), and returns a ``ResolvePlan``:
which headers, and where the body comes from. The HTTP handler only carries it out.
So every cache decision of a download (send the stored blob, from memory or disk;
relay it from the object store; join or start the blob's fill; read a Range far
ahead of that fill directly; announce a Xet hash) can be printed and tested with
plain values, without a server or an upstream.

Lookups that cost or record something (the Xet hash, starting a fill) are asked
through ``ResolveSources`` only on the branch that needs them: a HEAD never starts
a fill, a small git file never asks for a Xet hash.

The request and the plan are named tuples rather than frozen dataclasses: equally
immutable and printable, and about four times cheaper to build, which a warm HEAD
(built once per request, tens of thousands a second) notices.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple, Protocol

from hubmirror.hub.headers import X_CACHE_STATUS, CacheStatus, xet_headers
from hubmirror.hub.ranges import RangeSpec
from hubmirror.mirror.access.callers import Caller
from hubmirror.mirror.answers.files import SMALL_FILE_MAX, FileAnswer
from hubmirror.mirror.fills.state import Fill, FillClaim
from hubmirror.types import FileRef

# A Range starting this far past what its fill segment has written is read from upstream
# directly, so a parquet footer read never waits for most of a large file.
DIRECT_RANGE_AHEAD = 8 * 1024 * 1024
_NO_XET: tuple[None, None] = (None, None)


class Send(StrEnum):
    """Where a response's body comes from."""

    HEADERS = "headers"  # a HEAD: the headers alone, Content-Length the file's size
    MEMORY = "memory"  # a small stored blob, its bytes kept in memory once read
    FILE = "file"  # a stored blob, from its file on disk
    STORE = "store"  # a stored blob relayed from the object store (no local tier)
    EMPTY = "empty"  # a zero-byte file the object store holds: nothing to read anywhere
    FILL = "fill"  # the bytes as the blob's fill writes them (a MISS)
    DIRECT = "direct"  # a Range far ahead of the fill, read directly while the fill goes on


class FillLimits(Protocol):
    """The server's per-client fill limit, as ``ClientLimits`` offers it."""

    def fill_claim(self, address: str) -> FillClaim | None: ...


class ResolveAsk(NamedTuple):
    """One ``/resolve/`` request, parsed: who asks which file, how, and which bytes."""

    ref: FileRef
    method: str  # "HEAD" or "GET"
    range: RangeSpec | None  # the client's Range, not yet placed in the file
    caller: Caller
    limits: FillLimits  # a fill this request starts counts against the caller's address
    # The origin Xet Links name (public_url or the request's Host), asked only when a Link
    # is written; None when the request names none a client could follow.
    origin: Callable[[], str | None]


class ResolveSources(Protocol):
    """What only the mirror can tell the plan, asked only on the branch that needs it."""

    @property
    def xet_serve(self) -> bool: ...

    @property
    def from_store(self) -> bool:
        """No local tier: stored blobs are sent straight from the object store."""
        ...

    def xet_hash(self, answer: FileAnswer) -> str | None:
        """The hash to announce: computed from the stored blob, else upstream's for a cold
        file (recorded, nothing fetched); ``None`` when neither is known."""
        ...

    def fill(self, answer: FileAnswer, ask: ResolveAsk) -> Fill:
        """The blob's running fill, or a new one with the caller's token and fill claim."""
        ...


class ResolvePlan(NamedTuple):
    """What the handler sends. Print it to see the decision."""

    send: Send
    status: int  # 200, or 206 for a Range
    headers: dict[str, str]  # metadata (and Xet) headers; Content-Range/-Length are the sender's
    size: int  # the file's size
    span: tuple[int, int] | None  # the client's Range in the file, inclusive; None: it all
    answer: FileAnswer  # what the plan was made from
    path: Path | None = None  # MEMORY, FILE: the stored blob's file
    key: str | None = None  # FILE, FILL, DIRECT: what eviction leaves alone while it is sent
    xet_hash: str | None = None  # the Xet hash announced, kept should the plan be made again
    fill: Fill | None = None  # FILL, DIRECT: the blob's fill

    @property
    def first(self) -> int:
        """First byte to send."""
        return self.span[0] if self.span else 0

    @property
    def last(self) -> int:
        """Last byte to send (inclusive; -1 for an empty file)."""
        return self.span[1] if self.span else self.size - 1

    def __repr__(self) -> str:
        where = f" {self.path}" if self.path else ""
        key = f" key={self.key}" if self.key else ""
        return (
            f"ResolvePlan({self.send.value} {self.status} bytes {self.first}-{self.last}"
            f"/{self.size}{where}{key} xet={self.xet_hash} headers={self.headers})"
        )


def plan_resolve(ask: ResolveAsk, answer: FileAnswer, sources: ResolveSources) -> ResolvePlan:
    """The plan for ``ask``, given what the mirror knows of the file (``answer``).

    A HEAD is answered from metadata alone and never waits for a body or starts a fill.
    A GET of a stored blob sends it (a small one from memory); without a local tier it
    is relayed from the object store. Otherwise the blob's one fill is joined (or
    started), and a Range far ahead of what the fill has written is read directly.
    A Range past the end raises ``RangeNotSatisfiable`` before anything is read.
    """
    # As on the Hub, Xet only for LFS files: a small git file is one GET, cheaper than
    # Xet's three requests.
    xet_hash, links = _xet(ask, answer, sources) if answer.entry.lfs else _NO_XET
    size = answer.entry.size
    if ask.method == "HEAD":  # metadata only: one write, Content-Length the real size
        headers = answer.head_headers | links if links else answer.head_headers
        return ResolvePlan(Send.HEADERS, 200, headers, size, None, answer, xet_hash=xet_hash)
    headers = answer.headers | links if links else answer.headers
    span = ask.range.span(size) if ask.range else None
    status = 206 if span else 200
    blob = answer.blob
    if blob is not None and answer.blob_path is not None:
        if blob.size <= SMALL_FILE_MAX:  # read once, then kept in memory
            send, key = Send.MEMORY, None
        else:  # the quota leaves a blob alone while it is sent
            send, key = Send.FILE, blob.sha256
        path = answer.blob_path
        return ResolvePlan(send, status, headers, size, span, answer, path, key, xet_hash)
    if blob is not None and sources.from_store:
        send = Send.EMPTY if size == 0 else Send.STORE
        return ResolvePlan(send, status, headers, size, span, answer, xet_hash=xet_hash)
    fill = sources.fill(answer, ask)
    send = Send.FILL
    if span and fill.distance_ahead(span[0]) > DIRECT_RANGE_AHEAD:
        send, headers = Send.DIRECT, headers | {X_CACHE_STATUS: str(CacheStatus.MISS)}
    return ResolvePlan(send, status, headers, size, span, answer, None, fill.key, xet_hash, fill)


def _xet(
    ask: ResolveAsk, answer: FileAnswer, sources: ResolveSources
) -> tuple[str | None, dict[str, str] | None]:
    """The Xet hash to announce for an LFS file and its headers (``X-Xet-Hash`` and two
    ``Link``s), with xet_serve on and a Host the Links can name. That starts nothing: a
    metadata probe moves no bytes; a Xet client's reconstruction starts the fill that
    checks the hash. A Host the Links cannot name (a misconfigured proxy) gets the file
    plain.
    """
    if not sources.xet_serve:
        return _NO_XET
    origin = ask.origin()
    xet_hash = sources.xet_hash(answer) if origin is not None else None
    if xet_hash is None:
        return _NO_XET
    revision = ask.ref.revision.value
    return xet_hash, xet_headers(origin, answer.repo, answer.commit, xet_hash, revision)
