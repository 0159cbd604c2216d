"""Real clients through a node that has never downloaded anything itself.

What one node fetched is in the shared index and the object store, so a node
started with an empty disk serves it all, even while upstream is down.
"""

from __future__ import annotations

import pytest

from tests.outages.test_clients_outages import CHECKS, FROM_PRETRAINED, SNAPSHOT_DOWNLOAD
from tests.support.clients import run_client

from .conftest import settled

pytestmark = pytest.mark.timeout(240)


@pytest.mark.parametrize(
    ("client", "code"),
    [("snapshot_download", SNAPSHOT_DOWNLOAD), ("from_pretrained", FROM_PRETRAINED)],
)
def test_a_node_with_an_empty_disk_serves_real_clients_while_upstream_is_down(
    make_node, fakehub, new_home, client, code
):
    first = make_node()
    CHECKS[client](fakehub, run_client(code, first.url, new_home()))
    settled(first)
    fakehub.go_down()

    second = make_node()  # a data directory of its own, empty
    result = run_client(code, second.url, new_home())

    fakehub.come_up()
    CHECKS[client](fakehub, result)
    outcomes = second.call(lambda: dict(second.mirror.fills.outcomes))
    assert outcomes.get("from_upstream", 0) == 0 and outcomes["from_store"] > 0
