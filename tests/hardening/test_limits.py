"""Per-client limits: a token bucket per address, and uncached files fetched at once."""

from __future__ import annotations

import asyncio
import json
import multiprocessing

import aiohttp
import pytest

from hubmirror.clientcounts import ClientCounts
from hubmirror.errors import TooManyRequests
from hubmirror.server.limits import FillLimiter, RateLimiter, client_limits
from tests.fakehub.largefiles import large_file
from tests.support.http import get, head, request
from tests.support.waiting import wait_for

MODEL = "acme/tiny-bert"
MiB = 1024 * 1024
COLD_SIZE = 64 * MiB


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


def test_addresses_sharing_a_slot_share_a_bucket_never_more():
    """The table has a fixed size: addresses hashed to one slot are limited together."""
    limiter = RateLimiter(rate=1.0, burst=2, clock=Clock(), counts=ClientCounts(slots=1))
    assert [limiter.wait(a) == 0 for a in ("10.0.0.1", "10.0.0.2", "10.0.0.3")] == [
        True,
        True,
        False,
    ]


def test_workers_over_the_same_counts_share_each_clients_bucket():
    clock, counts = Clock(), ClientCounts(workers=2, slots=64)
    first = RateLimiter(rate=1.0, burst=3, clock=clock, counts=counts.for_worker(0))
    second = RateLimiter(rate=1.0, burst=3, clock=clock, counts=counts.for_worker(1))
    taken = [limiter.wait("10.0.0.1") == 0 for limiter in (first, second, first, second)]
    assert taken == [True, True, True, False]
    assert second.wait("10.0.0.2") == 0.0
    clock.now += 1.0
    assert (first.wait("10.0.0.1"), second.wait("10.0.0.1") > 0) == (0.0, True)


class FakeFill:
    """A fill as the limiter sees it: ended by the test."""

    def __init__(self) -> None:
        self.callbacks: list = []

    def on_end(self, callback) -> None:
        self.callbacks.append(callback)

    def end(self) -> None:
        for callback in self.callbacks:
            callback()


def test_fills_are_counted_per_address_until_they_end():
    fills = FillLimiter(limit=2)
    first, second = FakeFill(), FakeFill()
    fills.claim("a", first)
    fills.claim("a", second)
    with pytest.raises(TooManyRequests) as caught:
        fills.claim("a", FakeFill())
    assert caught.value.retry_after > 0
    fills.claim("b", FakeFill())
    assert (fills.active("a"), fills.active("b")) == (2, 1)
    first.end()
    fills.claim("a", FakeFill())  # an ended fill gives its place back
    assert fills.active("a") == 2


def test_a_refused_fill_is_not_counted():
    fills = FillLimiter(limit=1)
    fills.claim("a", only := FakeFill())
    with pytest.raises(TooManyRequests):
        fills.claim("a", FakeFill())
    only.end()
    assert fills.active("a") == 0


def _claim_fills_as_worker(counts: ClientCounts, address: str, how_many: int) -> None:
    """A spawned worker process: starts fills for ``address`` that never end, then dies."""
    fills = FillLimiter(limit=3, counts=counts)
    for _ in range(how_many):
        fills.claim(address, FakeFill())


def test_fills_of_another_worker_count_and_are_released_when_it_dies():
    context = multiprocessing.get_context("spawn")
    counts = ClientCounts(workers=2, slots=64, context=context)
    worker = context.Process(target=_claim_fills_as_worker, args=(counts.for_worker(1), "a", 2))
    worker.start()
    worker.join(60)
    assert worker.exitcode == 0
    here = FillLimiter(limit=3, counts=counts.for_worker(0))
    assert here.active("a") == 2  # the other process's fills, seen through shared memory
    here.claim("a", mine := FakeFill())
    with pytest.raises(TooManyRequests):
        here.claim("a", FakeFill())
    counts.worker_died(1)  # the parent, once it saw that worker die
    assert here.active("a") == 1
    here.claim("a", FakeFill())
    mine.end()
    assert here.active("a") == 1


def test_a_lock_left_held_by_a_dead_worker_is_taken_over():
    counts = ClientCounts(workers=2, slots=8)
    counts._lock.acquire()  # as a worker killed inside its few locked instructions leaves it
    counts.worker_died(1)
    fills = FillLimiter(limit=1, counts=counts.for_worker(0))
    fills.claim("a", FakeFill())
    assert fills.active("a") == 1


def test_fill_claims_apply_through_the_server_limits():
    limits = client_limits(max_fills=1)
    limits.fill_claim("a")(FakeFill())
    with pytest.raises(TooManyRequests):
        limits.fill_claim("a")(FakeFill())
    limits.fill_claim("b")(FakeFill())


def test_zero_switches_a_limit_off():
    limits = client_limits(max_fills=0, rate=0.0, burst=200)
    assert (limits.rate, limits.fills, limits.fill_claim("a")) == (None, None, None)
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


def _one_byte(url: str):
    """What a client reading one byte of a file and leaving gets."""
    return get(url, headers={"Range": "bytes=0-0"})


def _first_byte(seed: int) -> bytes:
    with large_file(COLD_SIZE, seed)[0].open("rb") as handle:
        return handle.read(1)


def _wait_until_stored(url: str, deadline: float = 60.0) -> None:
    """Until ``url`` is served from the store (its fill ended); a read meanwhile joins it."""
    wait_for(
        lambda: _one_byte(url).header("X-Cache-Status") == "HIT",
        f"{url} to be stored",
        timeout=deadline,
        every=0.1,
    )


async def _wait_for_cdn_get(fakehub) -> None:
    """Until the first fill is fetching from the CDN (it is then counted)."""
    while not any(e.host == "cdn" and e.method == "GET" for e in fakehub.log):
        await asyncio.sleep(0.01)


@pytest.mark.timeout(60)
async def test_fills_past_the_limit_get_429_and_cached_files_still_flow(make_mirror, fakehub):
    server = make_mirror(max_fills_per_client=1)
    fakehub.add_large_file("model", MODEL, "slow-a.bin", 4 * MiB, seed=31)
    fakehub.add_large_file("model", MODEL, "slow-b.bin", 4 * MiB, seed=32)
    cached = f"{server.url}/{MODEL}/resolve/main/config.json"
    assert (await asyncio.to_thread(get, cached)).status == 200
    fakehub.faults.bandwidth = 64 * 1024  # slow-a would take a minute: it stays counted
    slow_a, slow_b = (f"{server.url}/{MODEL}/resolve/main/slow-{x}.bin" for x in "ab")
    async with aiohttp.ClientSession() as session:
        first = asyncio.ensure_future(_read(session, slow_a))
        await _wait_for_cdn_get(fakehub)
        other = await asyncio.to_thread(get, slow_b)
        joining = await asyncio.to_thread(_one_byte, slow_a)
        hit = await asyncio.to_thread(get, cached)
        fakehub.faults.bandwidth = None
        status, body = await first
    assert (other.status, other.header("X-Error-Code")) == (429, "TooManyRequests")
    assert int(other.header("Retry-After")) >= 1
    assert "at most 1 per client" in json.loads(other.body)["error"]
    assert (joining.status, joining.body) == (206, body[:1])  # joining costs nothing
    assert hit.status == 200
    assert (status, len(body)) == (200, 4 * MiB)
    again = await asyncio.to_thread(get, slow_b)
    assert (again.status, len(again.body)) == (200, 4 * MiB)  # slow-a's fill ended: room again


@pytest.mark.timeout(180)
def test_fills_left_behind_count_against_their_client_until_they_end(make_mirror, fakehub):
    """One-byte reads of cold files: the client leaves at once, its fills go on and stay
    counted, so the mirror fetches no more than the limit's worth for it at a time."""
    server = make_mirror(max_fills_per_client=2)
    for n in range(8):
        fakehub.add_large_file("model", MODEL, f"cold-{n}.bin", COLD_SIZE, seed=40 + n)
    urls = [f"{server.url}/{MODEL}/resolve/main/cold-{n}.bin" for n in range(8)]
    fakehub.faults.bandwidth = 256 * 1024  # per connection: a fill takes half a minute
    answers = [_one_byte(url) for url in urls]
    assert [(a.status, a.body) for a in answers[:2]] == [(206, _first_byte(40 + n)) for n in (0, 1)]
    for refused in answers[2:]:
        assert (refused.status, refused.header("X-Error-Code")) == (429, "TooManyRequests")
        assert int(refused.header("Retry-After")) >= 1
        assert "at most 2 per client" in json.loads(refused.body)["error"]
    joined = _one_byte(urls[0])  # a running fill costs nothing more to read
    assert (joined.status, joined.body) == (206, _first_byte(40))
    fakehub.faults.bandwidth = None
    for url in urls[:2]:
        _wait_until_stored(url)
    assert fakehub.body_bytes(host="cdn") == 2 * COLD_SIZE  # the two fills, nothing more
    fakehub.faults.bandwidth = 256 * 1024
    later = [_one_byte(url) for url in urls[2:5]]  # its fills ended: two new ones may start
    assert [a.status for a in later] == [206, 206, 429]
    fakehub.faults.bandwidth = None
    for url in urls[2:4]:
        _wait_until_stored(url)
    assert fakehub.body_bytes(host="cdn") == 4 * COLD_SIZE


@pytest.mark.timeout(60)
def test_a_failed_fill_gives_its_place_back(make_mirror, fakehub):
    server = make_mirror(max_fills_per_client=1)
    fakehub.add_large_file("model", MODEL, "broken.bin", 4 * MiB, seed=33)
    fakehub.add_large_file("model", MODEL, "next.bin", 4 * MiB, seed=34)
    broken = f"{server.url}/{MODEL}/resolve/main/broken.bin"
    fakehub.xet = False  # a HEAD then starts no fill: it only learns the file's metadata
    assert head(broken).status == 200
    fakehub.faults.fail_status, fakehub.faults.fail_count = 403, 1  # the fill's first request
    refused = _one_byte(broken)  # the fill failed before a byte: its error, not a cut 206
    assert refused.status == 403 and b"Injected failure 403" in refused.body
    assert fakehub.faults.fail_count is None  # spent by the fill
    answer = _one_byte(f"{server.url}/{MODEL}/resolve/main/next.bin")
    with large_file(4 * MiB, 34)[0].open("rb") as handle:
        assert (answer.status, answer.body) == (206, handle.read(1))


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
