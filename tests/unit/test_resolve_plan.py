"""The resolve plan: what a ``/resolve/`` request is sent, decided from plain values.

No server and no upstream: a file's answer, the request and the mirror's lookups go in
(the lookups as a fake that records what it was asked), a ``ResolvePlan`` comes out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hubmirror.errors import RangeNotSatisfiable
from hubmirror.hub.headers import X_CACHE_STATUS, CacheStatus, file_headers
from hubmirror.hub.ranges import RangeSpec
from hubmirror.index.records import StoredBlob
from hubmirror.mirror.access.callers import Caller
from hubmirror.mirror.answers.files import SMALL_FILE_MAX, FileAnswer
from hubmirror.mirror.answers.resolve_plan import (
    DIRECT_RANGE_AHEAD,
    ResolveAsk,
    Send,
    plan_resolve,
)
from hubmirror.mirror.answers.resolve_sources import KnownXet
from hubmirror.types import FileEntry, FileRef, RepoId, RepoPath, RepoType, Revision

SHA = "a" * 64
COMMIT = "c" * 40
XET = "e" * 64
REPO = RepoId(RepoType.MODEL, "acme/bert")
ORIGIN = "http://mirror.test"
BIG = SMALL_FILE_MAX + 1
PATH = Path("/data/blobs/sha256/aa/aa") / SHA


class FakeFill:
    """A fill that has written ``written`` bytes from its start."""

    key = "fill-key"

    def __init__(self, written: int) -> None:
        self.written = written

    def distance_ahead(self, position: int) -> int:
        return max(0, position - self.written)


class Sources:
    """The mirror's lookups, recording which were asked."""

    def __init__(
        self, *, xet_serve=True, from_store=False, xet_hash: str | None = XET, written=0
    ) -> None:
        self.xet_serve = xet_serve
        self.from_store = from_store
        self.known_hash = xet_hash
        self.written = written
        self.asked: list[str] = []

    def xet_hash(self, answer: FileAnswer) -> str | None:
        self.asked.append("xet_hash")
        return self.known_hash

    def fill(self, answer: FileAnswer, ask: ResolveAsk) -> FakeFill:
        self.asked.append("fill")
        return FakeFill(self.written)


class NoLimits:
    def fill_claim(self, address: str) -> None:
        return None


def answer(
    size: int = 100, *, lfs: bool = True, stored: bool = True, on_disk: bool = True
) -> FileAnswer:
    """A file's answer: stored on this disk, stored elsewhere only, or not stored."""
    entry = FileEntry("model.bin", size, SHA if lfs else "b" * 40, lfs, SHA if lfs else None)
    blob = StoredBlob(SHA, "b" * 40, size) if stored else None
    path = PATH if stored and on_disk else None
    status = CacheStatus.HIT if blob else CacheStatus.MISS
    headers = file_headers(COMMIT, entry, status)
    head_headers = headers | {"Content-Length": str(size)}
    return FileAnswer(REPO, COMMIT, entry, blob, path, status, headers, head_headers)


def ask(method: str = "GET", span: RangeSpec | None = None, origin: str | None = ORIGIN):
    asked_origin = []

    def origin_of() -> str | None:
        asked_origin.append(True)
        return origin

    ref = FileRef(REPO, Revision("main"), RepoPath("model.bin"))
    caller = Caller("127.0.0.1", None, None)
    request = ResolveAsk(ref, method, span, caller, NoLimits(), origin_of)
    return request, asked_origin


def plan(method="GET", span=None, file=None, sources=None, origin=ORIGIN):
    request, _ = ask(method, span, origin)
    return plan_resolve(request, file or answer(), sources or Sources())


# HEAD ------------------------------------------------------------------------------
def test_head_is_headers_alone_with_the_files_size():
    sources = Sources(xet_serve=False)
    result = plan("HEAD", file=answer(12345, stored=False), sources=sources)
    assert result.send is Send.HEADERS
    assert result.status == 200
    assert result.headers["Content-Length"] == "12345"
    assert result.headers[X_CACHE_STATUS] == "MISS"
    assert sources.asked == []  # a metadata probe starts no fill


def test_head_ignores_a_range_past_the_end():
    result = plan("HEAD", RangeSpec(500, None), answer(100))
    assert (result.send, result.status, result.span) == (Send.HEADERS, 200, None)


# HIT --------------------------------------------------------------------------------
def test_small_stored_blob_is_sent_from_memory():
    sources = Sources()
    result = plan(file=answer(100), sources=sources)
    assert (result.send, result.status, result.path, result.key) == (Send.MEMORY, 200, PATH, None)
    assert (result.first, result.last) == (0, 99)
    assert "Content-Length" not in result.headers
    assert "fill" not in sources.asked


def test_small_stored_blob_with_a_range_is_206_of_its_span():
    result = plan(span=RangeSpec(None, 10), file=answer(100))
    assert (result.send, result.status, result.span) == (Send.MEMORY, 206, (90, 99))


def test_large_stored_blob_is_sent_from_disk_marked_by_its_sha256():
    sources = Sources()
    result = plan(file=answer(BIG), sources=sources)
    assert (result.send, result.status, result.path, result.key) == (Send.FILE, 200, PATH, SHA)
    assert (result.first, result.last) == (0, BIG - 1)
    assert result.headers[X_CACHE_STATUS] == "HIT"
    assert "fill" not in sources.asked


def test_large_stored_blob_with_a_range_is_206_of_its_span():
    result = plan(span=RangeSpec(5, 9), file=answer(BIG))
    assert (result.send, result.status, result.span) == (Send.FILE, 206, (5, 9))
    assert (result.first, result.last) == (5, 9)


def test_range_past_the_end_is_416_before_any_fill():
    sources = Sources()
    with pytest.raises(RangeNotSatisfiable):
        plan(span=RangeSpec(100, None), file=answer(100, stored=False), sources=sources)
    assert "fill" not in sources.asked


# the object store, no local tier ----------------------------------------------------
def test_stored_blob_without_local_tier_is_relayed_from_the_object_store():
    sources = Sources(from_store=True)
    result = plan(span=RangeSpec(0, 9), file=answer(BIG, on_disk=False), sources=sources)
    assert (result.send, result.status, result.span, result.path) == (Send.STORE, 206, (0, 9), None)
    assert "fill" not in sources.asked


def test_empty_file_in_the_object_store_has_an_empty_body():
    result = plan(file=answer(0, on_disk=False), sources=Sources(from_store=True))
    assert (result.send, result.status, result.first, result.last) == (Send.EMPTY, 200, 0, -1)


def test_blob_gone_from_this_disk_with_a_local_tier_is_filled_again():
    """With a local tier, a file gone from this disk keeps its blob; the fill brings it back
    (from the object store) rather than relaying it."""
    sources = Sources(from_store=False)
    result = plan(file=answer(BIG, on_disk=False), sources=sources)
    assert (result.send, result.key) == (Send.FILL, "fill-key")
    assert sources.asked.count("fill") == 1


# MISS: the fill ---------------------------------------------------------------------
def test_cold_get_joins_the_fill_from_the_start():
    sources = Sources()
    result = plan(file=answer(BIG, stored=False), sources=sources)
    assert (result.send, result.status, result.key) == (Send.FILL, 200, "fill-key")
    assert result.fill is not None and (result.first, result.last) == (0, BIG - 1)
    assert result.headers[X_CACHE_STATUS] == "MISS"
    assert sources.asked.count("fill") == 1


def test_cold_empty_file_joins_its_fill():
    result = plan(file=answer(0, stored=False))
    assert (result.send, result.first, result.last) == (Send.FILL, 0, -1)


def test_range_far_ahead_of_the_fill_is_read_directly_while_the_fill_goes_on():
    start = DIRECT_RANGE_AHEAD + 1
    sources = Sources(written=0)
    size = 4 * DIRECT_RANGE_AHEAD
    result = plan(span=RangeSpec(start, None), file=answer(size, stored=False), sources=sources)
    assert (result.send, result.status, result.span) == (Send.DIRECT, 206, (start, size - 1))
    assert result.headers[X_CACHE_STATUS] == "MISS"
    assert sources.asked.count("fill") == 1  # started all the same


def test_range_near_the_fill_follows_it():
    size = 4 * DIRECT_RANGE_AHEAD
    start = DIRECT_RANGE_AHEAD + 1000
    sources = Sources(written=1000)  # exactly DIRECT_RANGE_AHEAD ahead: not far enough
    result = plan(span=RangeSpec(start, None), file=answer(size, stored=False), sources=sources)
    assert (result.send, result.status, result.first) == (Send.FILL, 206, start)


def test_direct_read_of_a_blob_stored_elsewhere_says_miss():
    """A vanished blob of a node with a local tier keeps its HIT answer; read directly,
    the response says MISS."""
    size = 4 * DIRECT_RANGE_AHEAD
    result = plan(span=RangeSpec(size - 10, None), file=answer(size, on_disk=False))
    assert result.send is Send.DIRECT and result.headers[X_CACHE_STATUS] == "MISS"


# Xet --------------------------------------------------------------------------------
def test_stored_lfs_file_announces_its_xet_hash_with_links_to_this_mirror():
    for method in ("HEAD", "GET"):
        result = plan(method, file=answer(BIG))
        assert result.headers["X-Xet-Hash"] == XET
        assert result.xet_hash == XET
        link = result.headers["Link"]
        token = f"{ORIGIN}/api/models/acme/bert/xet-read-token/{COMMIT}?revision=main"
        assert f"<{token}>" in link
        assert f"<{ORIGIN}/xet-cas/v1/reconstructions/{XET}>" in link


def test_cold_lfs_file_head_announces_the_hash_and_starts_nothing():
    sources = Sources()
    result = plan("HEAD", file=answer(BIG, stored=False), sources=sources)
    assert result.headers["X-Xet-Hash"] == XET
    assert sources.asked == ["xet_hash"]


def test_xet_serve_off_announces_nothing_and_asks_nothing():
    sources = Sources(xet_serve=False)
    request, asked_origin = ask("HEAD")
    result = plan_resolve(request, answer(BIG), sources)
    assert "X-Xet-Hash" not in result.headers and result.xet_hash is None
    assert sources.asked == [] and asked_origin == []


def test_git_file_announces_no_xet_hash():
    sources = Sources()
    request, asked_origin = ask("HEAD")
    result = plan_resolve(request, answer(100, lfs=False), sources)
    assert "X-Xet-Hash" not in result.headers and "Link" not in result.headers
    assert sources.asked == [] and asked_origin == []


def test_host_no_link_may_name_gets_the_file_plain():
    sources = Sources()
    result = plan("HEAD", file=answer(BIG), sources=sources, origin=None)
    assert "X-Xet-Hash" not in result.headers and "Link" not in result.headers
    assert sources.asked == []  # no hash computed or offered for it


def test_no_known_xet_hash_announces_nothing():
    result = plan("HEAD", file=answer(BIG), sources=Sources(xet_hash=None))
    assert "X-Xet-Hash" not in result.headers and result.xet_hash is None


def test_vanished_file_is_planned_again_as_a_fill_with_the_hash_announced_before():
    """``Mirror.refill`` plans again from the answer without its blob: a MISS that fills,
    with the Xet headers of the first plan and no new hash lookup or offer."""
    sources = Sources(xet_hash="f" * 64)
    result = plan(file=answer(BIG, stored=False), sources=KnownXet(sources, XET))
    assert (result.send, result.key) == (Send.FILL, "fill-key")
    assert result.headers["X-Xet-Hash"] == XET
    assert sources.asked == ["fill"]


# printing ---------------------------------------------------------------------------
def test_plan_prints_its_decision():
    text = repr(plan(span=RangeSpec(5, 9), file=answer(BIG)))
    assert text.startswith(f"ResolvePlan(file 206 bytes 5-9/{BIG} {PATH} key={SHA} xet={XET}")
