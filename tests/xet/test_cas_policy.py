"""Xet CAS policy (mirror.xet.reconstruction): tokens, hashes, signed URLs, JSON, xorb bytes."""

from __future__ import annotations

import asyncio
import os
from urllib.parse import parse_qsl, urlsplit

import pytest

from hubmirror.errors import (
    EntryNotFound,
    Forbidden,
    IntegrityError,
    InvalidCredentials,
    InvalidInput,
)
from hubmirror.hub import xet
from hubmirror.index.database import Database
from hubmirror.index.queries import Index, StoredBlob
from hubmirror.mirror.access.callers import Caller
from hubmirror.mirror.xet import reconstruction, xorbs
from hubmirror.mirror.xet.tokens import ReadToken, claims_of, issue_token
from hubmirror.types import FileEntry, RepoId, RepoType

BERT = RepoId(RepoType.MODEL, "acme/bert")
OTHER = RepoId(RepoType.MODEL, "acme/other")
SHA = "ab" * 32
XET_HASH = "ef" * 32


def _records(tmp_path):
    index = Index(Database(tmp_path / "index.sqlite"))
    blob = StoredBlob(SHA, "cd" * 20, 10)
    index.put_blob(blob, 1.0)
    index.put_entries(BERT, "c" * 40, [FileEntry("w.bin", 10, SHA, True, SHA)])
    index.xet.put(SHA, XET_HASH, 2.0)
    return index.xet, blob


def test_a_bearer_token_names_its_repo():
    token, _ = issue_token("secret", BERT, now=1000)
    assert reconstruction.token_claims("secret", f"Bearer {token}", 1001) == ReadToken(BERT)


def test_a_token_names_the_caller_it_was_issued_to():
    holder = Caller("10.0.0.7", "Bearer hm_abc", None, identity="alice")
    token, _ = issue_token("secret", BERT, now=1000, holder=holder)
    claims = reconstruction.token_claims("secret", f"Bearer {token}", 1001)
    assert (claims.identity, claims.fingerprint) == ("alice", holder.fingerprint)
    assert claims.fingerprint != "-" and "hm_abc" not in token


@pytest.mark.parametrize("authorization", [None, "", "Basic abc", "Bearer garbage"])
def test_a_missing_or_invalid_token_is_refused(authorization):
    with pytest.raises(InvalidCredentials):
        reconstruction.token_claims("secret", authorization, 1001)


def test_an_expired_token_is_refused():
    token, expires = issue_token("secret", BERT, now=1000, ttl=60)
    with pytest.raises(InvalidCredentials):
        reconstruction.token_claims("secret", f"Bearer {token}", expires)


def test_a_hash_is_found_only_for_a_repo_that_holds_the_blob(tmp_path):
    records, blob = _records(tmp_path)
    assert reconstruction.file_for_hash(records, BERT, XET_HASH) == reconstruction.CasFile(
        blob, "c" * 40, "w.bin", stored=True
    )
    with pytest.raises(EntryNotFound):
        reconstruction.file_for_hash(records, OTHER, XET_HASH)
    with pytest.raises(EntryNotFound):
        reconstruction.file_for_hash(records, BERT, "00" * 32)


@pytest.mark.parametrize("bad", ["EF" * 32, "ef" * 31, "zz" * 32, "ef" * 32 + "0"])
def test_a_malformed_hash_is_bad_input(tmp_path, bad):
    records, _ = _records(tmp_path)
    with pytest.raises(InvalidInput):
        reconstruction.file_for_hash(records, BERT, bad)


def _query(url: str) -> tuple[str, dict]:
    parts = urlsplit(url)
    return parts.path.rsplit("/", 1)[1], dict(parse_qsl(parts.query))


GRANT = reconstruction.XorbGrant(SHA, 3, "claims", "c" * 40, "w.bin")


def test_a_signed_xorb_url_grants_its_xorb_until_it_expires():
    url = reconstruction.xorb_url("secret", "http://m/xet-cas", GRANT, expires=2000)
    assert url.startswith(f"http://m/xet-cas/xorbs/{xet.xorb_id(SHA, 3)}?")
    xorb_hash, query = _query(url)
    assert reconstruction.verify_xorb_url("secret", xorb_hash, query, 1999) == GRANT
    with pytest.raises(Forbidden):
        reconstruction.verify_xorb_url("secret", xorb_hash, query, 2000)


@pytest.mark.parametrize("field", ["b", "x", "e", "s", "c", "p", "h", "path"])
def test_an_edited_xorb_url_is_forbidden(field):
    xorb_hash, query = _query(reconstruction.xorb_url("secret", "http://m/xet-cas", GRANT, 2000))
    if field == "path":
        xorb_hash = xet.xorb_id(SHA, 4)
    elif field in ("b", "c"):
        query[field] = "cd" * 32
    elif field in ("p", "h"):
        query[field] += "x"
    else:
        query[field] = str(int(query[field], 16 if field == "s" else 10) + 1)
    with pytest.raises(Forbidden):
        reconstruction.verify_xorb_url("secret", xorb_hash, query, 1000)


def test_a_signed_xorb_url_names_the_holder_of_its_token_but_is_no_token():
    holder = Caller("10.0.0.7", "Bearer hm_abc", None, identity="alice")
    token, _ = issue_token("secret", BERT, now=1000, holder=holder)
    grant = reconstruction.XorbGrant(SHA, 0, claims_of(token), "c" * 40, "w.bin")
    xorb_hash, query = _query(reconstruction.xorb_url("secret", "http://m/xet-cas", grant, 9000))

    claims = reconstruction.grant_claims(
        "secret", reconstruction.verify_xorb_url("secret", xorb_hash, query, 5000)
    )

    assert (claims.repo, claims.identity, claims.presented) == (BERT, "alice", "Bearer hm_abc")
    assert token not in query["h"] and "hm_abc" not in query["h"]
    with pytest.raises(InvalidCredentials):  # the URL's claims alone are not a token
        reconstruction.token_claims("secret", f"Bearer {query['h']}", 1001)


def test_a_url_signed_with_another_secret_or_unsigned_is_forbidden():
    xorb_hash, query = _query(reconstruction.xorb_url("other", "http://m/xet-cas", GRANT, 2000))
    with pytest.raises(Forbidden):
        reconstruction.verify_xorb_url("secret", xorb_hash, query, 1000)
    with pytest.raises(Forbidden):
        reconstruction.verify_xorb_url("secret", xorb_hash, {}, 1000)


def _small_xorbs(monkeypatch):
    monkeypatch.setattr(xet, "XORB_CHUNKS", 3)


def test_v2_lists_one_fetch_entry_per_xorb_containing_its_term(monkeypatch):
    _small_xorbs(monkeypatch)
    blob = StoredBlob(SHA, "cd" * 20, 7 * xet.CHUNK + 5)
    body = reconstruction.reconstruction(blob, (xet.CHUNK + 1, 6 * xet.CHUNK), lambda x: f"u{x}", 2)
    assert body["offset_into_first_range"] == 1
    assert [t["range"] for t in body["terms"]] == [
        {"start": 1, "end": 3},
        {"start": 0, "end": 3},
        {"start": 0, "end": 1},
    ]
    assert [t["hash"] for t in body["terms"]] == [xet.xorb_id(SHA, x) for x in range(3)]
    for number, term in enumerate(body["terms"]):
        (entry,) = body["xorbs"][term["hash"]]
        assert entry["url"] == f"u{number}"
        (described,) = entry["ranges"]
        assert described["chunks"] == term["range"]
        first = term["range"]["start"] * xet.RECORD
        assert described["bytes"] == {
            "start": first,
            "end": first
            + term["unpacked_length"]
            + 8 * (term["range"]["end"] - term["range"]["start"])
            - 1,
        }
    assert "fetch_info" not in body


def test_v1_gives_each_term_a_url_and_an_inclusive_byte_range(monkeypatch):
    _small_xorbs(monkeypatch)
    blob = StoredBlob(SHA, "cd" * 20, 4 * xet.CHUNK + 5)
    body = reconstruction.reconstruction(blob, (0, blob.size - 1), lambda x: f"u{x}", 1)
    assert body["offset_into_first_range"] == 0
    last = body["fetch_info"][xet.xorb_id(SHA, 1)]
    assert last == [
        {
            "range": {"start": 0, "end": 2},
            "url": "u1",
            "url_range": {"start": 0, "end": xet.RECORD + 8 + 5 - 1},
        }
    ]
    assert sum(t["unpacked_length"] for t in body["terms"]) == blob.size
    assert "xorbs" not in body


def _decode(records: bytes) -> bytes:
    out, position = b"", 0
    while position < len(records):
        head = records[position : position + 8]
        length = int.from_bytes(head[1:4], "little")
        assert head[0] == 0 and head[4] == 0 and head[5:8] == head[1:4]
        out += records[position + 8 : position + 8 + length]
        position += 8 + length
    return out


class MemoryReads:
    """A blob in memory, read in windows of ``window`` bytes; each read is noted."""

    def __init__(self, blob: bytes, window: int, short: int = 0) -> None:
        self.blob, self.window, self.short = blob, window, short
        self.calls: list[tuple[int, int]] = []

    async def read(self, start: int, end: int) -> bytes:
        self.calls.append((start, end))
        return self.blob[start : end - self.short]


def _xorb_bytes(blob: bytes, reads: MemoryReads) -> list[bytes]:
    async def collect():
        length = xet.xorb_length(len(blob), 0)
        return [p async for p in xorbs.xorb_bytes(len(blob), 0, 0, length - 1, reads)]

    return asyncio.run(collect())


def test_xorb_bytes_are_the_blob_behind_chunk_headers_read_in_windows():
    blob = os.urandom(5 * xet.CHUNK + 17)
    reads = MemoryReads(blob, window=3 * xet.CHUNK)
    pieces = _xorb_bytes(blob, reads)
    assert _decode(b"".join(pieces)) == blob
    assert len(pieces) == 6  # each header goes out with its chunk
    assert reads.calls == [(0, 3 * xet.CHUNK), (3 * xet.CHUNK, len(blob))]


def test_a_short_read_of_the_blob_is_an_integrity_error():
    with pytest.raises(IntegrityError, match="shorter"):
        _xorb_bytes(b"x" * 100, MemoryReads(b"x" * 100, window=xet.CHUNK, short=1))
