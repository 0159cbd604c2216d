"""Every Index query round-trips real values on both backends (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from hubmirror.index.queries import (
    ApiAnswer,
    BlobRef,
    BlobUsage,
    CachedFile,
    KnownCommit,
    MirrorToken,
    Snapshot,
    StoredBlob,
)
from hubmirror.types import FileEntry, RepoId, RepoType

REPO = RepoId(RepoType.MODEL, "acme/tiny-bert")
OTHER = RepoId(RepoType.DATASET, "acme/tiny-csv")
C1, C2 = "1" * 40, "2" * 40
BIG = 5 * 2**31 + 7  # a size past 32 bits
WHEN = 1_790_000_000.123456  # sub-second precision must survive
LFS = FileEntry("model.safetensors", BIG, "e" * 64, True, "a" * 64)
PLAIN = FileEntry("config.json", 12, "c" * 40, False, None)
BODY = bytes(range(256)) * 3  # not UTF-8, has NULs


def test_commit_round_trip_keeps_subsecond_time_and_replaces(index):
    index.put_commit(REPO, "main", C1, WHEN)
    assert index.get_commit(REPO, "main") == KnownCommit(C1, WHEN)
    index.put_commit(REPO, "main", C2, WHEN + 1.5)
    assert index.get_commit(REPO, "main") == KnownCommit(C2, WHEN + 1.5)
    assert index.get_commit(OTHER, "main") is None
    assert index.revisions_of(REPO) == {"main": C2}
    assert index.all_revisions() == [(REPO, "main", C2)]


def test_entries_keep_big_sizes_and_lfs_flag(index):
    index.put_entries(REPO, C1, [LFS, PLAIN])
    assert index.get_entry(REPO, C1, "model.safetensors") == LFS
    assert index.get_entry(REPO, C1, "config.json") == PLAIN
    assert index.entries_at(REPO, C1) == [PLAIN, LFS]
    index.put_entries(REPO, C1, [FileEntry("config.json", 13, "d" * 40, False, "f" * 64)])
    assert index.get_entry(REPO, C1, "config.json").size == 13
    assert index.entry_counts() == {REPO: 2}
    assert index.commits_of(REPO) == [C1]


def test_missing_paths_round_trip(index):
    index.put_missing(REPO, C1, "nope.txt", WHEN)
    index.put_missing(REPO, C1, "nope.txt", WHEN + 1)  # again: no duplicate
    index.put_missing(REPO, C1, "absent.bin", WHEN)
    assert index.is_missing(REPO, C1, "nope.txt")
    assert not index.is_missing(REPO, C2, "nope.txt")
    assert index.missing_at(REPO, C1) == ["absent.bin", "nope.txt"]


def test_blobs_by_sha256_and_git_sha1_with_totals_past_32_bits(index):
    big = StoredBlob("a" * 64, "b" * 40, BIG)
    small = StoredBlob("f" * 64, "c" * 40, 12)
    index.put_blob(big, WHEN)
    index.put_blob(small, WHEN)
    assert index.blob_for(LFS) == big
    assert index.blob_for(PLAIN) == small
    assert index.blob_by_id("a" * 64) == big
    assert index.blob_by_id("c" * 40) == small
    assert index.blob_totals() == (2, BIG + 12)
    index.touch_blobs({"a" * 64: WHEN + 0.25})
    assert BlobUsage("a" * 64, "b" * 40, BIG, WHEN + 0.25) in index.blob_usage()
    index.forget_blob("f" * 64)
    index.delete_blobs(["a" * 64])
    assert index.blob_totals() == (0, 0)
    assert index.blob_for(LFS) is None


def test_put_blob_again_only_moves_last_access(index):
    index.put_blob(StoredBlob("a" * 64, "b" * 40, 5), WHEN)
    index.put_blob(StoredBlob("a" * 64, "b" * 40, 5), WHEN + 9.5)
    assert index.blob_usage() == [BlobUsage("a" * 64, "b" * 40, 5, WHEN + 9.5)]


def test_api_answer_bodies_come_back_as_bytes(index):
    answer = ApiAnswer(200, BODY, "https://hub/next?page=2&x=%41", WHEN)
    index.put_answer("info:acme/tiny-bert", REPO, answer)
    got = index.get_answer("info:acme/tiny-bert")
    assert got == answer and type(got.body) is bytes
    index.put_answer("info:acme/tiny-bert", REPO, ApiAnswer(404, b"{}", None, WHEN))
    assert index.get_answer("info:acme/tiny-bert") == ApiAnswer(404, b"{}", None, WHEN)
    assert index.get_answer("nothing") is None


def test_snapshot_round_trip(index):
    snapshot = Snapshot(C1, b'{"id": "acme/tiny-bert"}', BODY, WHEN)
    index.put_snapshot(REPO, snapshot)
    index.put_snapshot(REPO, snapshot)
    assert index.get_snapshot(REPO, C1) == snapshot
    assert index.get_snapshot(REPO, C2) is None


def test_visibility_round_trip(index):
    assert index.get_visibility(REPO) is None
    index.put_visibility(REPO, "public", WHEN)
    index.put_visibility(REPO, "gated", WHEN + 2)
    assert index.get_visibility(REPO) == ("gated", WHEN + 2)


def _fill(index) -> None:
    index.put_visibility(REPO, "public", WHEN)
    index.put_commit(REPO, "main", C1, WHEN)
    index.put_snapshot(REPO, Snapshot(C1, b"{}", BODY, WHEN))
    index.put_entries(REPO, C1, [LFS, PLAIN])
    index.put_missing(REPO, C1, "nope", WHEN)
    index.put_answer("k1", REPO, ApiAnswer(200, BODY, None, WHEN))


def test_a_record_carried_whole_arrives_equal(index_backend):
    from hubmirror.index.queries import Index

    source = Index(index_backend())
    _fill(source)
    record = source.record_of(REPO)
    source.delete_repo(REPO)
    assert source.known_repos() == []
    with source.atomic():
        source.put_record(REPO, record, WHEN)
    assert source.record_of(REPO) == record
    assert source.known_repos() == [REPO]


def test_atomic_rolls_back_every_write_on_error(index):
    with pytest.raises(RuntimeError), index.atomic():
        index.put_commit(REPO, "main", C1, WHEN)
        index.put_entries(REPO, C1, [LFS])  # executemany joins the transaction
        raise RuntimeError("boom")
    assert index.get_commit(REPO, "main") is None
    assert index.entries_at(REPO, C1) == []


def test_delete_commit_keeps_other_commits(index):
    _fill(index)
    index.put_entries(REPO, C2, [PLAIN])
    index.put_commit(REPO, "v2", C2, WHEN)
    index.delete_commit(REPO, C1)
    assert index.revisions_of(REPO) == {"v2": C2}
    assert index.commits_of(REPO) == [C2]
    assert index.get_snapshot(REPO, C1) is None
    assert index.missing_at(REPO, C1) == []


def test_blob_refs_and_cached_files(index):
    index.put_entries(REPO, C1, [LFS, PLAIN])
    index.put_blob(StoredBlob("a" * 64, "b" * 40, BIG), WHEN)
    assert index.blob_refs() == [BlobRef(REPO, C1, "a" * 64)]
    assert index.cached_files(REPO, C1) == [
        CachedFile("config.json", 12, False, None),
        CachedFile("model.safetensors", BIG, True, WHEN),
    ]


def test_mirror_tokens_round_trip(index):
    token = MirrorToken("ci", "h" * 64, ("acme/*", "org/model"), WHEN, expires_at=WHEN + 3600)
    assert index.put_mirror_token(token)
    assert not index.put_mirror_token(token)  # name taken
    assert index.mirror_token("h" * 64) == token
    index.mirror_token_used("ci", WHEN + 1)
    assert index.revoke_mirror_token("ci", WHEN + 2)
    assert not index.revoke_mirror_token("ci", WHEN + 3)
    (stored,) = index.mirror_tokens()
    assert (stored.last_used, stored.revoked_at, stored.repos) == (WHEN + 1, WHEN + 2, token.repos)
