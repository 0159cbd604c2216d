"""A central mirror's 5xx "my upstream failed" is an outage for the request, not for the central."""

from __future__ import annotations

import pytest

from hubmirror.errors import UpstreamRateLimited, UpstreamUnavailable
from hubmirror.hub.statuses import RelayedOutage, hub_error
from hubmirror.upstream.client import HubClient
from hubmirror.upstream.pool import UpstreamPool


@pytest.mark.parametrize("code", ["UpstreamUnavailable", "UpstreamTimeout", "RateLimited"])
def test_a_mirrors_outage_code_on_a_5xx_is_a_relayed_outage(code):
    error = hub_error(503, {"X-Error-Code": code, "Retry-After": "7"})

    assert isinstance(error, RelayedOutage) and isinstance(error, UpstreamUnavailable)
    assert error.retry_after == 7


def test_a_5xx_without_a_mirror_code_is_the_upstream_failing():
    error = hub_error(502, {})

    assert type(error) is UpstreamUnavailable


def test_a_429_from_a_central_mirror_still_rests_it():
    assert isinstance(hub_error(429, {"X-Error-Code": "TooManyRequests"}), UpstreamRateLimited)


def test_relayed_outages_never_open_the_central_breaker():
    central = HubClient(session=None, base_url="http://central:8080")
    pool = UpstreamPool([central])

    for _ in range(10):
        pool.failed(central, RelayedOutage("upstream mirror: every upstream is failing"))

    assert pool.breakers[central.name].state == "closed"
    assert pool.candidates() == [central]
    pool.failed(central, UpstreamUnavailable("refused"))
    assert pool.stats[central.name].failures == 1
