"""Numbers read from headers: odd digits and huge values are ignored, never a traceback."""

from __future__ import annotations

import pytest

from hubmirror.hub import nodeauth
from hubmirror.hub.statuses import retry_after


@pytest.mark.parametrize("value", ["9" * 5000, "²", "١٢", "-1", "1.5", ""])
def test_an_unreadable_retry_after_is_ignored(value):
    assert retry_after({"Retry-After": value}) is None


def test_a_plain_retry_after_is_read():
    assert retry_after({"Retry-After": "11"}) == 11


@pytest.mark.parametrize("stamp", ["9" * 5000, "²", "١٢٣"])
def test_a_node_signature_with_an_unreadable_time_is_refused(stamp):
    headers = nodeauth.sign("secret", "node-a", "GET", "/_node/fills/x", 1000.0)
    headers[nodeauth.X_NODE_TIME] = stamp
    assert nodeauth.verify("secret", headers, "GET", "/_node/fills/x", 1000.0) is None


def test_a_node_signature_within_its_window_is_accepted():
    headers = nodeauth.sign("secret", "node-a", "GET", "/_node/fills/x", 1000.0)
    assert nodeauth.verify("secret", headers, "GET", "/_node/fills/x", 1001.0) == "node-a"
