"""A cold file's Xet client may send each request to another node of the cluster.

Behind a round-robin balancer, the HEAD (which passes upstream's Xet hash on) and the
reconstruction that starts the fill (which checks the hash) reach one node; another
reconstruction and the xorb fetches may reach another, which reads the running fill
from the node that holds it.
"""

from __future__ import annotations

import pytest

from tests.support.clients import TINY_BERT
from tests.support.http import head
from tests.xet import cas_support as cas
from tests.xet.advertise_support import cold_file

from .conftest import settled

pytestmark = pytest.mark.timeout(120)
BIG = "weights/cold-xet.bin"
SIZE = 3 * 1024 * 1024 + 17
SLOW = 1024 * 1024  # bytes per second upstream: the fill runs for about three seconds


def test_a_cold_files_xet_reads_on_one_node_follow_the_fill_on_another(make_node, fakehub):
    sha256, data, true_hash = cold_file(fakehub, TINY_BERT, BIG, SIZE, seed=31)
    first, second = make_node(xet_serve=True), make_node(xet_serve=True)
    fakehub.faults.bandwidth = SLOW

    announced = head(f"{first.url}/{TINY_BERT}/resolve/main/{BIG}")
    started = cas.reconstruction(first, true_hash, token_value=cas.token(first)[0])
    answer = cas.reconstruction(second, true_hash, token_value=cas.token(second)[0])

    assert announced.header("X-Xet-Hash") == true_hash
    assert started.status == 200
    assert cas.rebuild(answer, 2, SIZE) == data
    settled(first)
    assert fakehub.body_bytes(host="cdn") == SIZE  # the second node read the first's fill
    assert second.mirror.index.xet.blob_of(true_hash).sha256 == sha256
