"""Nodes that share one object store (moto's S3 server) and one index (PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import new_home  # noqa: F401 - fixture
from tests.support.clients import MODEL, TINY_BERT
from tests.support.waiting import wait_for

BIG = "big/shared.bin"
BIG_SIZE = 6 * 1024 * 1024


@pytest.fixture
def cluster_settings(postgres_url, s3_settings) -> dict:
    """Settings every node of one cluster shares: the index and the object store."""
    return {"index": postgres_url, **s3_settings}


@pytest.fixture
def make_node(cluster_settings, make_mirror):
    """Start a node of the cluster (its own data directory); overrides per node.

    The nodes stop before the shared index and bucket go (fixtures end in reverse).
    """

    def make(**overrides):
        return make_mirror(**(cluster_settings | overrides))

    return make


@pytest.fixture
def big_file(fakehub) -> str:
    """A 6 MiB LFS file on main of tiny-bert; its sha256."""
    return fakehub.add_large_file(MODEL, TINY_BERT, BIG, BIG_SIZE, seed=5)


def settled(node, timeout: float = 20.0) -> None:
    """Wait until the node has no fill running (uploads to the store included)."""
    wait_for(
        lambda: not node.call(lambda: bool(node.mirror.fills.running)),
        "every fill to finish",
        timeout=timeout,
    )
