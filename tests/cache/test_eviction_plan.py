"""Eviction plans are decided from index facts alone: which blobs, and why."""

from __future__ import annotations

from hubmirror.index.queries import BlobRef, BlobUsage
from hubmirror.mirror.cache.eviction import plan_prune, plan_unreferenced
from hubmirror.types import RepoId, RepoType

DAY = 86400.0
NOW = 100 * DAY
BERT = RepoId(RepoType.MODEL, "acme/bert")
CSV = RepoId(RepoType.DATASET, "acme/csv")


def blob(name: str, size: int, days_ago: float) -> BlobUsage:
    return BlobUsage(name * 64, "", size, NOW - days_ago * DAY)


def shas(plan) -> list[str]:
    return [b.sha256[0] for b in plan.blobs]


BLOBS = [blob("a", 100, 40), blob("b", 200, 1), blob("c", 300, 5), blob("d", 400, 0)]


def test_older_than_takes_only_blobs_not_read_since():
    plan = plan_prune(BLOBS, NOW, older_than=30 * DAY)

    assert shas(plan) == ["a"] and plan.size == 100
    assert plan.blobs[0].reason == "not read for 40.0 days"


def test_max_size_takes_least_recently_used_until_the_rest_fits():
    assert shas(plan_prune(BLOBS, NOW, max_size=700)) == ["a", "c"]


def test_max_size_counts_but_never_takes_a_blob_being_read():
    plan = plan_prune(BLOBS, NOW, max_size=600, keep=frozenset({"a" * 64}))

    assert shas(plan) == ["c", "b"]  # a stays, so more of the others go


def test_a_store_under_max_size_plans_nothing():
    assert len(plan_prune(BLOBS, NOW, max_size=1000)) == 0


def test_removing_a_repo_keeps_blobs_another_repo_lists():
    refs = [BlobRef(BERT, "c1", "a" * 64), BlobRef(BERT, "c1", "b" * 64)]
    refs.append(BlobRef(CSV, "c2", "b" * 64))

    plan = plan_unreferenced(BLOBS, refs, lambda ref: ref.repo == BERT)

    assert shas(plan) == ["a"]


def test_removing_a_commit_keeps_blobs_another_commit_lists():
    refs = [BlobRef(BERT, "old", "a" * 64), BlobRef(BERT, "new", "a" * 64)]
    refs.append(BlobRef(BERT, "old", "c" * 64))

    plan = plan_unreferenced(BLOBS, refs, lambda ref: ref.commit == "old")

    assert shas(plan) == ["c"]
