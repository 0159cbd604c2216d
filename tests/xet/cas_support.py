"""Helpers for the Xet CAS tests: a blob filled through the mirror, its hash recorded, a token,
and a decoder that rebuilds bytes from a reconstruction the way hf_xet does."""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from dataclasses import dataclass

import hf_xet

from hubmirror.mirror.xet.tokens import issue_token
from hubmirror.types import RepoId, RepoType
from tests.fakehub.defaults import TINY_BERT
from tests.support import http
from tests.support.waiting import wait_for

BERT = RepoId(RepoType.MODEL, TINY_BERT)
LARGE_SIZE = 3 * 1024 * 1024 + 12345  # several 64 KiB chunks, a short last one


@dataclass(frozen=True)
class Served:
    """A file the mirror stores, as a Xet client knows it."""

    data: bytes
    sha256: str
    xet_hash: str


def fill(server, path: str, repo: str = TINY_BERT, headers=None) -> Served:
    """GET a file through the mirror, then record its Xet hash from the stored blob."""
    answer = http.get(f"{server.url}/{repo}/resolve/main/{path}", headers=headers or {})
    assert answer.status == 200, answer.body[:200]
    sha256 = hashlib.sha256(answer.body).hexdigest()
    with tempfile.NamedTemporaryFile() as copy:  # the blob may live in an object store
        copy.write(answer.body)
        copy.flush()
        xet_hash = hf_xet.hash_files([copy.name])[0].hash
    wait_for(
        lambda: server.call(lambda: server.mirror.index.blob_by_id(sha256)) is not None,
        "the blob to be stored",
        every=0.02,
    )
    server.call(server.mirror.index.xet.put, sha256, xet_hash, time.time())
    return Served(answer.body, sha256, xet_hash)


def large(server, fakehub, path: str = "big.bin", seed: int = 3) -> Served:
    fakehub.add_large_file("model", TINY_BERT, path, LARGE_SIZE, seed=seed)
    return fill(server, path)


def token(server, repo: RepoId = BERT, now: float | None = None, ttl: int = 3600):
    secret = server.call(server.mirror.index.xet.secret)
    return issue_token(secret, repo, time.time() if now is None else now, ttl)


def reconstruction(server, xet_hash, version=2, token_value=None, headers=None) -> http.Answer:
    headers = dict(headers or {})
    if token_value is not None:
        headers["Authorization"] = f"Bearer {token_value}"
    return http.get(f"{server.url}/xet-cas/v{version}/reconstructions/{xet_hash}", headers=headers)


def decode_records(records: bytes) -> list[bytes]:
    """Chunk payloads, checked as hf_xet checks them (version 0, scheme 0, ≤128 KiB)."""
    chunks, position = [], 0
    while position < len(records):
        head = records[position : position + 8]
        assert head[0] == 0 and head[4] == 0 and head[1:4] == head[5:8]
        length = int.from_bytes(head[1:4], "little")
        assert 0 < length <= 128 * 1024
        chunks.append(records[position + 8 : position + 8 + length])
        assert len(chunks[-1]) == length
        position += 8 + length
    return chunks


def fetch_descriptors(body: dict, version: int) -> dict[str, list[tuple[dict, str, dict]]]:
    """Per xorb: (chunk range, url, inclusive byte range), from either JSON version."""
    if version == 1:
        return {
            xorb: [(f["range"], f["url"], f["url_range"]) for f in fetches]
            for xorb, fetches in body["fetch_info"].items()
        }
    return {
        xorb: [
            (r["chunks"], entry["url"], r["bytes"]) for entry in entries for r in entry["ranges"]
        ]
        for xorb, entries in body["xorbs"].items()
    }


def rebuild(answer: http.Answer, version: int, length: int) -> bytes:
    """The file bytes a reconstruction answer leads to: ``length`` bytes from its start."""
    assert answer.status == 200, answer.body[:300]
    assert answer.header("Content-Type").startswith("application/json")
    body = json.loads(answer.body)
    descriptors = fetch_descriptors(body, version)
    out = b""
    for term in body["terms"]:
        chunks, url, byte_range = next(
            d
            for d in descriptors[term["hash"]]
            if d[0]["start"] <= term["range"]["start"] and term["range"]["end"] <= d[0]["end"]
        )
        fetched = http.get(
            url, headers={"Range": f"bytes={byte_range['start']}-{byte_range['end']}"}
        )
        assert fetched.status == 206, fetched.body[:300]
        records = decode_records(fetched.body)
        assert len(records) == chunks["end"] - chunks["start"]
        wanted = records[
            term["range"]["start"] - chunks["start"] : term["range"]["end"] - chunks["start"]
        ]
        assert sum(map(len, wanted)) == term["unpacked_length"]
        out += b"".join(wanted)
    return out[body["offset_into_first_range"] :][:length]


def wait_logged(caplog, fragment: str, polls: int = 400) -> None:
    """Wait for an access log line with ``fragment``: the mirror logs a request after its
    answer went out, so a client can be done before the line is written."""
    wait_for(
        lambda: any(fragment in record.getMessage() for record in caplog.records),
        f"an access log line with {fragment!r}",
        timeout=polls * 0.01,
        every=0.01,
    )
