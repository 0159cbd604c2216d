"""Per-client limits: a token bucket per address, and uncached files fetched at once."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from hubmirror.errors import TooManyRequests
from hubmirror.server.limits import FillLimiter, RateLimiter, client_limits
from tests.support.http import get, head, request

MODEL = "acme/tiny-bert"
MiB = 1024 * 1024


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_requests_wait_for_the_refill():
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.wait("10.0.0.1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.wait("10.0.0.1") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.wait("10.0.0.1") == 0.0
    assert limiter.wait("10.0.0.1") > 0


def test_each_address_has_its_own_bucket():
    limiter = RateLimiter(rate=1.0, burst=1, clock=Clock())
    assert limiter.wait("10.0.0.1") == 0.0
    assert limiter.wait("10.0.0.1") > 0
    assert limiter.wait("10.0.0.2") == 0.0


def test_a_bucket_never_holds_more_than_the_burst():
    clock = Clock()
    limiter = RateLimiter(rate=10.0, burst=2, clock=clock)
    limiter.wait("a")
    clock.now += 3600
    assert [limiter.wait("a") > 0 for _ in range(3)] == [False, False, True]


def test_refused_request_names_the_limit_and_when_to_retry():
    limiter = RateLimiter(rate=0.25, burst=1, clock=Clock())
    limiter.check("10.0.0.1")
    with pytest.raises(TooManyRequests) as caught:
        limiter.check("10.0.0.1")
    assert caught.value.retry_after == 4
    assert "0.25 per second" in caught.value.message


def test_the_least_recently_seen_addresses_are_forgotten_first():
    limiter = RateLimiter(rate=1.0, burst=1, clock=Clock(), max_addresses=100)
    for n in range(1000):
        limiter.wait(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter) == 100
    assert limiter.wait("10.0.3.231") > 0  # the most recent ones are still limited


def test_fill_slots_are_counted_per_address_and_released():
    fills = FillLimiter(limit=2)
    with fills.slot("a"), fills.slot("a"):
        with pytest.raises(TooManyRequests) as caught, fills.slot("a"):
            pass
        assert caught.value.retry_after > 0
        with fills.slot("b"):
            assert (fills.active("a"), fills.active("b")) == (2, 1)
    assert (fills.active("a"), len(fills)) == (0, 0)


def test_a_failed_download_gives_its_slot_back():
    fills = FillLimiter(limit=1)
    with pytest.raises(RuntimeError), fills.slot("a"):
        raise RuntimeError("upstream went away")
    assert len(fills) == 0


def test_fill_slots_apply_through_the_server_limits():
    limits = client_limits(max_fills=1)
    with limits.fill_slot("a"):
        with pytest.raises(TooManyRequests), limits.fill_slot("a"):
            pass
        with limits.fill_slot("b"):
            pass


def test_zero_switches_a_limit_off():
    limits = client_limits(max_fills=0, rate=0.0, burst=200)
    assert (limits.rate, limits.fills) == (None, None)
    with limits.fill_slot("a"):
        pass
    on = client_limits(max_fills=3, rate=5.0, burst=10)
    assert (on.rate.rate, on.rate.burst, on.fills.limit) == (5.0, 10, 3)


# -- through a live mirror ----------------------------------------------------------------


def test_requests_past_the_burst_get_429_with_retry_after(make_mirror, fakehub):
    server = make_mirror(rate_limit=0.001, rate_burst=3)
    target = f"{server.url}/{MODEL}/resolve/main/config.json"
    assert [head(target).status for _ in range(3)] == [200, 200, 200]
    before = len(fakehub.log)
    refused = get(target)
    assert (refused.status, refused.header("X-Error-Code")) == (429, "TooManyRequests")
    assert int(refused.header("Retry-After")) >= 1
    assert "Too many requests" in json.loads(refused.body)["error"]
    assert len(fakehub.log) == before  # refused before any upstream request
    api = get(f"{server.url}/api/models/{MODEL}")
    assert api.status == 429


def test_health_and_metrics_are_not_rate_limited(make_mirror):
    server = make_mirror(rate_limit=0.001, rate_burst=1)
    statuses = [get(f"{server.url}/healthz").status for _ in range(5)]
    statuses += [get(f"{server.url}/metrics").status for _ in range(2)]
    assert statuses == [200] * 7


def test_without_a_rate_limit_many_requests_pass(make_mirror):
    server = make_mirror()  # rate_limit = 0: off
    target = f"{server.url}/{MODEL}/resolve/main/config.json"
    assert {head(target).status for _ in range(300)} == {200}


async def _wait_for_cdn_get(fakehub) -> None:
    """Until the first fill is fetching from the CDN (its slot is then held)."""
    while not any(e.host == "cdn" and e.method == "GET" for e in fakehub.log):
        await asyncio.sleep(0.01)


@pytest.mark.timeout(60)
async def test_fills_past_the_limit_get_429_and_cached_files_still_flow(make_mirror, fakehub):
    server = make_mirror(max_fills_per_client=1)
    fakehub.add_large_file("model", MODEL, "slow-a.bin", 4 * MiB, seed=31)
    fakehub.add_large_file("model", MODEL, "slow-b.bin", 4 * MiB, seed=32)
    cached = f"{server.url}/{MODEL}/resolve/main/config.json"
    assert (await asyncio.to_thread(get, cached)).status == 200
    fakehub.faults.bandwidth = 64 * 1024  # slow-a would take a minute: its slot stays held
    slow_a, slow_b = (f"{server.url}/{MODEL}/resolve/main/slow-{x}.bin" for x in "ab")
    async with aiohttp.ClientSession() as session:
        first = asyncio.ensure_future(_read(session, slow_a))
        await _wait_for_cdn_get(fakehub)
        other = await asyncio.to_thread(get, slow_b)
        joining = await asyncio.to_thread(get, slow_a)
        hit = await asyncio.to_thread(get, cached)
        fakehub.faults.bandwidth = None
        status, body = await first
    assert (other.status, other.header("X-Error-Code")) == (429, "TooManyRequests")
    assert int(other.header("Retry-After")) >= 1
    assert "at most 1 per client" in json.loads(other.body)["error"]
    assert joining.status == 429  # joining a running fill counts too
    assert hit.status == 200
    assert (status, len(body)) == (200, 4 * MiB)
    again = await asyncio.to_thread(get, slow_b)
    assert (again.status, len(again.body)) == (200, 4 * MiB)  # the slot came back


async def _read(session: aiohttp.ClientSession, url: str) -> tuple[int, bytes]:
    async with session.get(url) as resp:
        return resp.status, await resp.read()


@pytest.mark.parametrize(
    "headers",
    [{"X-Big": "a" * 65536}, {f"X-Many-{n}": "v" * 1000 for n in range(200)}],
    ids=["64KiB-value", "200-headers"],
)
def test_oversized_headers_are_refused_hub_style_and_write_nothing(mirror, fakehub, headers):
    answer = request("GET", f"{mirror.url}/{MODEL}/resolve/main/config.json", headers=headers)
    assert answer.status in (400, 431)
    assert answer.header("X-Error-Code") == "BadRequest"
    assert answer.header("X-Error-Message")
    assert "error" in json.loads(answer.body)
    assert fakehub.log == []
    assert [p for p in (mirror.data_dir / "blobs").rglob("*") if p.is_file()] == []


def test_clients_behind_a_trusted_proxy_are_limited_one_by_one(make_mirror, fakehub):
    """Behind nginx every request comes from the proxy; its X-Forwarded-For names the client."""
    server = make_mirror(rate_limit=0.001, rate_burst=2, trusted_proxies=("127.0.0.1",))
    url = f"{server.url}/acme/tiny-bert/resolve/main/config.json"

    def as_client(address):
        return get(url, headers={"X-Forwarded-For": address}).status

    assert [as_client("203.0.113.1") for _ in range(3)] == [200, 200, 429]
    assert as_client("203.0.113.2") == 200  # another client behind the same proxy
