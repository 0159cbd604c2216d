"""The Xet use cases (mirror.xet.serving) without a server: tokens, CAS files, signed URLs.

A real SQLite index in a temporary directory and a real blob store; the facade's access
decisions, the fills and the audit log are doubles that record what they were asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from hubmirror.errors import EntryNotFound, Forbidden, InvalidCredentials
from hubmirror.hub import xet
from hubmirror.index.database import Database
from hubmirror.index.queries import Index, StoredBlob
from hubmirror.index.records import ApiAnswer
from hubmirror.mirror.access.callers import Caller
from hubmirror.mirror.xet import reconstruction
from hubmirror.mirror.xet.serving import CasRequest, XetServing
from hubmirror.mirror.xet.tokens import issue_token, read_token
from hubmirror.mirror.xet.xorbs import XorbSources
from hubmirror.storage.blobs import BlobStore
from hubmirror.types import FileEntry, RepoId, RepoType, Revision
from tests.xet import cas_support as cas

BERT = RepoId(RepoType.MODEL, "acme/bert")
DENIED = RepoId(RepoType.MODEL, "acme/denied")
COMMIT = "c" * 40
DATA = bytes(range(256)) * 1000  # 256000 bytes: 4 chunks of one xorb
SHA = hashlib.sha256(DATA).hexdigest()
XET_HASH = "ef" * 32
COLD_SHA = "ab" * 32
COLD_HASH = "12" * 32
NOW = 1_000_000.0
ALICE = Caller("10.0.0.7", "Bearer hm_alice", "hf_alice", identity="alice")


class Downloads:
    """The facade's decisions: ``DENIED`` is refused; a revoked caller may read nothing."""

    def __init__(self) -> None:
        self.revoked = False
        self.checked: list[tuple[str, str]] = []  # (who, path) of every download decision

    def identify(self, address: str, authorization: str | None) -> Caller:
        return Caller(address, authorization, "hf_alice", identity="alice")

    def admit(self, caller: Caller, repo: RepoId) -> None:
        if repo == DENIED or self.revoked:
            raise Forbidden(f"{repo} is not served to {caller.who}")

    async def may_download(self, caller, ref) -> None:
        self.admit(caller, ref.repo)
        self.checked.append((caller.who, ref.path.value))

    async def file(self, ref, auth):
        raise AssertionError("a public repo needs no file decision")

    async def api(self, route, query, form, auth) -> ApiAnswer:
        body = json.dumps({"sha": COMMIT, "siblings": [{"rfilename": "w.bin"}]})
        return ApiAnswer(200, body.encode(), None, NOW)


class Public:
    async def visibility(self, repo: RepoId) -> str:
        return "public"


class NoRevisions:
    def last_known_commit(self, repo, revision):
        return None


class Announced:
    """Upstream announced ``COLD_HASH`` for the cold blob; no fill checks anything yet."""

    def pending_blob(self, xet_hash: str) -> StoredBlob | None:
        return None

    def offered_blob(self, xet_hash: str) -> StoredBlob | None:
        return StoredBlob(COLD_SHA, "", 4096) if xet_hash == COLD_HASH else None


class StartedFill:
    """What ``Fills.start`` returns for a cold blob: running, checking the announced hash."""

    def __init__(self, source) -> None:
        self.key, self.size, self.blob, self.error = COLD_SHA, 4096, None, None
        self.xet_check = source.xet_hash


class Fills:
    def __init__(self) -> None:
        self.started: list[tuple] = []
        self.running: dict = {}

    def start(self, source, claim=None):
        self.started.append((source, claim))
        return StartedFill(source)

    def follow_local(self, key: str):
        return None


class BlobUse:
    def __init__(self) -> None:
        self.touched: list[str] = []
        self.read: list[str] = []

    def touch(self, blob: StoredBlob) -> None:
        self.touched.append(blob.sha256)

    @contextlib.contextmanager
    def reading(self, key: str):
        self.read.append(key)
        yield


class CountingRecords:
    """``index.xet``, counting how often its secret is read."""

    def __init__(self, records) -> None:
        self.records, self.secrets_read = records, 0

    def secret(self) -> str:
        self.secrets_read += 1
        return self.records.secret()

    def __getattr__(self, name: str):
        return getattr(self.records, name)


def fill_limit(fill) -> None:
    """A per-client fill limit that lets every fill start."""


class Audit:
    enabled = True

    def __init__(self) -> None:
        self.records: list[dict] = []
        self.decisions: list[tuple] = []

    def add(self, record: dict) -> None:
        self.records.append(record)

    def decision(self, caller, repo, revision, path, verdict, reason) -> None:
        self.decisions.append((caller.who, repo, revision, verdict))


class Parts:
    """A ``XetServing`` over a real index and store, and the doubles it was given."""

    def __init__(self, tmp_path) -> None:
        self.index = Index(Database(tmp_path / "index.sqlite"))
        self.store = BlobStore(tmp_path / "blobs", tmp_path / "tmp")
        self.downloads, self.fills, self.use, self.audit = Downloads(), Fills(), BlobUse(), Audit()
        self.now = NOW
        self.records = CountingRecords(self.index.xet)
        sources = XorbSources(
            index=self.index,
            announced=self.index.xet,
            fills=self.fills,
            files=self.store,
            use=self.use,
        )
        self.serving = XetServing(
            enabled=True,
            downloads=self.downloads,
            visibilities=Public(),
            revisions=NoRevisions(),
            entries=self.index,
            records=self.records,
            announced=Announced(),
            fills=self.fills,
            xorbs=sources,
            audit=self.audit,
            clock=lambda: self.now,
        )
        self._store_blob()

    def _store_blob(self) -> None:
        path = self.store.path_for(SHA)
        path.parent.mkdir(parents=True)
        path.write_bytes(DATA)
        self.index.put_blob(StoredBlob(SHA, "cd" * 20, len(DATA)), NOW)
        entries = [
            FileEntry("w.bin", len(DATA), SHA, True, SHA),
            FileEntry("cold.bin", 4096, COLD_SHA, True, COLD_SHA),
        ]
        self.index.put_entries(BERT, COMMIT, entries)
        self.index.xet.put(SHA, XET_HASH, NOW)

    def bearer(self, repo: RepoId = BERT) -> str:
        token, _ = issue_token(self.serving.secret, repo, self.now, holder=ALICE)
        return f"Bearer {token}"


@pytest.fixture
def parts(tmp_path) -> Parts:
    return Parts(tmp_path)


def _signed(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path.rsplit("/", 1)[1], dict(parse_qsl(parts.query))


def test_a_token_names_the_repo_and_its_holder_and_the_decision_is_audited(parts):
    token, expires = asyncio.run(parts.serving.token(ALICE, BERT, Revision("main")))

    claims = read_token(parts.index.xet.secret(), token, NOW + 1)
    assert (claims.repo, claims.identity, claims.presented) == (BERT, "alice", "Bearer hm_alice")
    assert expires == int(NOW) + 300
    assert parts.audit.decisions == [("alice", BERT, COMMIT, "allowed")]


def test_a_token_for_a_denied_repo_is_refused_and_nothing_is_audited_as_allowed(parts):
    with pytest.raises(Forbidden):
        asyncio.run(parts.serving.token(ALICE, DENIED, Revision("main")))
    assert parts.audit.decisions == []


def test_a_reconstructions_urls_are_signed_for_the_holder_and_expire(parts):
    request = CasRequest("10.0.0.7", parts.bearer())
    body = asyncio.run(parts.serving.reconstruction(request, XET_HASH, None, 2, "http://m/xet-cas"))

    (term,) = body["terms"]
    assert term["hash"] == xet.xorb_id(SHA, 0) and term["unpacked_length"] == len(DATA)
    (fetch,) = body["xorbs"][term["hash"]]
    assert fetch["url"].startswith(f"http://m/xet-cas/xorbs/{xet.xorb_id(SHA, 0)}?")
    xorb_hash, query = _signed(fetch["url"])
    secret = parts.index.xet.secret()
    expires = NOW + reconstruction.URL_TTL
    grant = reconstruction.verify_xorb_url(secret, xorb_hash, query, expires - 1)
    assert (grant.sha256, grant.xorb, grant.commit, grant.path) == (SHA, 0, COMMIT, "w.bin")
    assert reconstruction.grant_claims(secret, grant).identity == "alice"
    with pytest.raises(Forbidden):
        reconstruction.verify_xorb_url(secret, xorb_hash, query, expires)
    assert parts.downloads.checked == [("alice", "w.bin")]
    (record,) = parts.audit.records
    assert (record["identity"], record["path"], record["bytes"]) == ("alice", "w.bin", len(DATA))
    assert (record["cache"], record["action"]) == ("HIT", "xet")
    assert parts.fills.started == []  # stored on this disk: nothing to fetch


def test_a_reconstruction_without_a_token_or_for_a_repo_without_the_hash_is_refused(parts):
    ask = parts.serving.reconstruction
    with pytest.raises(InvalidCredentials):
        asyncio.run(ask(CasRequest("10.0.0.7"), XET_HASH, None, 2, "http://m/xet-cas"))
    other = CasRequest("10.0.0.7", parts.bearer(RepoId(RepoType.MODEL, "acme/other")))
    with pytest.raises(EntryNotFound):
        asyncio.run(ask(other, XET_HASH, None, 2, "http://m/xet-cas"))
    assert parts.audit.records == []


def test_a_signed_xorb_is_read_from_the_stored_blob_while_the_holder_may_read_it(parts):
    request = CasRequest("10.0.0.7", parts.bearer())
    body = asyncio.run(parts.serving.reconstruction(request, XET_HASH, None, 2, "http://m/x"))
    xorb_hash, query = _signed(next(iter(body["xorbs"].values()))[0]["url"])

    async def read() -> bytes:
        async with parts.serving.xorb(CasRequest("10.0.0.8"), xorb_hash, query) as xorb:
            assert xorb.stored and xorb.length == len(DATA) + 4 * 8
            return b"".join([piece async for piece in xorb.pieces(0, xorb.length - 1)])

    assert b"".join(cas.decode_records(asyncio.run(read()))) == DATA
    assert (parts.use.read, parts.use.touched) == ([SHA], [SHA])
    parts.downloads.revoked = True  # the holder's mirror token revoked since
    with pytest.raises(Forbidden):
        asyncio.run(read())


def test_a_head_starts_no_fill_and_a_reconstruction_fills_a_cold_file_for_the_holder(parts):
    request = CasRequest("10.0.0.7", parts.bearer(), claim=fill_limit)
    with pytest.raises(EntryNotFound):  # a HEAD of a cold file: nothing fetched
        asyncio.run(parts.serving.file(request, COLD_HASH))
    assert parts.fills.started == []

    body = asyncio.run(parts.serving.reconstruction(request, COLD_HASH, None, 2, "http://m/x"))

    ((source, claim),) = parts.fills.started
    assert (source.entry.path, source.auth, source.xet_hash) == ("cold.bin", "hf_alice", COLD_HASH)
    assert claim is fill_limit  # the per-client fill limit of the requesting address
    assert [t["unpacked_length"] for t in body["terms"]] == [4096]
    assert parts.audit.records[0]["cache"] == "MISS"


def test_the_secret_is_read_from_the_index_once(parts):
    request = CasRequest("10.0.0.7", parts.bearer())
    for _ in range(3):
        asyncio.run(parts.serving.reconstruction(request, XET_HASH, None, 2, "http://m/x"))
    assert parts.records.secrets_read == 1
