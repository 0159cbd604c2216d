"""Two nodes sharing one index ask upstream each metadata question once between them."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.clients import TINY_BERT
from tests.support.http import head

pytestmark = pytest.mark.timeout(120)


def test_clients_of_two_nodes_cause_one_upstream_question_per_kind(make_node, fakehub):
    nodes = [make_node(), make_node()]
    fakehub.faults.latency = 0.5  # one node's questions are still out when the other asks
    fakehub.clear_log()

    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda i: head(f"{nodes[i % 2].url}/{TINY_BERT}/resolve/main/config.json"),
                range(8),
            )
        )

    assert [a.status for a in answers] == [200] * 8
    assert len({a.header("X-Repo-Commit") for a in answers}) == 1
    asked = Counter((e.method, e.target.split("?")[0]) for e in fakehub.log if e.host == "hub")
    assert asked == {
        ("GET", f"/api/models/{TINY_BERT}"): 1,  # the repo's visibility
        ("HEAD", f"/{TINY_BERT}/resolve/main/config.json"): 1,  # the file's commit and size
    }
