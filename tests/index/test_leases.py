"""Fill leases and the cluster secret: two connections to one database play two nodes."""

from __future__ import annotations

import threading

from hubmirror.index.leases import FillLeases, cluster_secret
from hubmirror.index.queries import Index


def _race(leases: list[FillLeases], key: str) -> list[bool]:
    """Every node tries to take ``key`` at the same moment, each from its own thread."""
    barrier = threading.Barrier(len(leases))
    won = [False] * len(leases)

    def take(i: int) -> None:
        barrier.wait()
        won[i] = leases[i].acquire(key, f"node-{i}", f"http://node-{i}:8080", 30)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(len(leases))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return won


def test_of_nodes_racing_for_a_key_exactly_one_wins(index_backend):
    nodes = [FillLeases(index_backend()) for _ in range(2)]
    for round_ in range(10):
        won = _race(nodes, f"blob-{round_}")
        assert won.count(True) == 1
        winner = won.index(True)
        assert nodes[1 - winner].holder(f"blob-{round_}").node == f"node-{winner}"


def test_the_holder_renews_by_acquiring_again(index_backend):
    a = FillLeases(index_backend())
    assert a.acquire("k", "a", "http://a", 30)
    first = a.holder("k").expires_at
    assert a.acquire("k", "a", "http://a", 60)
    assert a.holder("k").expires_at > first
    assert not FillLeases(index_backend()).acquire("k", "b", "http://b", 30)


def test_an_expired_lease_is_taken_over_and_the_old_holder_cannot_renew(index_backend):
    a, b = FillLeases(index_backend()), FillLeases(index_backend())
    assert a.acquire("k", "a", "http://a", -1)  # its time already passed: never renewed
    assert a.holder("k") is None
    assert b.acquire("k", "b", "http://b:8080", 30)
    assert not a.renew("k", "a", 30)
    lease = a.holder("k")
    assert (lease.node, lease.address) == ("b", "http://b:8080")
    assert b.renew("k", "b", 30)


def test_release_by_another_node_does_nothing(index_backend):
    a, b = FillLeases(index_backend()), FillLeases(index_backend())
    assert a.acquire("k", "a", "http://a", 30)
    b.release("k", "b")
    assert b.holder("k").node == "a"
    a.release("k", "a")
    assert b.holder("k") is None
    assert not a.renew("k", "a", 30)
    assert b.acquire("k", "b", "http://b", 30)


def test_lease_times_come_from_the_database_clock(index_db):
    leases = FillLeases(index_db)
    before = index_db.now()
    leases.acquire("k", "a", "http://a", 30)
    assert before + 30 <= leases.holder("k").expires_at <= index_db.now() + 30


def test_every_connection_reads_the_same_cluster_secret(index_backend):
    first = cluster_secret(index_backend())
    assert len(first) == 64 and int(first, 16) >= 0
    assert Index(index_backend()).cluster_secret() == first
