"""Several upstreams in priority order: failures move requests and fill segments on."""

from __future__ import annotations

import hashlib

import pytest

from tests.fakehub import FakeHub, default_repos
from tests.support.http import get
from tests.support.ports import dead_url

MODEL = "acme/tiny-bert"
MiB = 1024 * 1024


@pytest.fixture
def second_hub():
    hub = FakeHub(repos=default_repos()).start()
    yield hub
    hub.stop()


def test_refused_primary_fails_over_to_the_next_upstream(make_mirror, fakehub):
    dead = dead_url()
    server = make_mirror(upstream=(dead, fakehub.url))
    for _ in range(4):
        answer = get(f"{server.url}/{MODEL}/resolve/main/config.json")
        assert answer.status == 200
        assert answer.body == fakehub.file_bytes("model", MODEL, "main", "config.json")
    breaker = server.call(lambda: server.mirror.pool.breakers["127.0.0.1:" + dead.rsplit(":")[-1]])
    assert breaker.state == "open"


@pytest.mark.timeout(60)
def test_fill_segments_move_to_the_next_upstream_when_theirs_keeps_dropping(
    make_mirror, fakehub, second_hub
):
    size = 32 * MiB
    sha256 = fakehub.add_large_file("model", MODEL, "big-f.bin", size, seed=8)
    assert second_hub.add_large_file("model", MODEL, "big-f.bin", size, seed=8) == sha256
    fakehub.faults.drop_after = 0  # metadata answers, bodies never arrive
    server = make_mirror(upstream=(fakehub.url, second_hub.url))
    answer = get(f"{server.url}/{MODEL}/resolve/main/big-f.bin")
    assert answer.status == 200
    assert hashlib.sha256(answer.body).hexdigest() == sha256
    assert second_hub.body_bytes() >= size
    assert fakehub.body_bytes(host="cdn") == 0


def test_not_found_upstream_is_an_answer_not_a_failover(make_mirror, fakehub, second_hub):
    server = make_mirror(upstream=(fakehub.url, second_hub.url))
    answer = get(f"{server.url}/{MODEL}/resolve/main/nope.txt")
    assert answer.header("X-Error-Code") == "EntryNotFound"
    assert not [e for e in second_hub.log if "nope.txt" in e.target]
