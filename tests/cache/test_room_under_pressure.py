"""A node of two workers on a small disk or under a quota: room is taken before a fill,
one quota holds for both workers, hot files stay, and a fill that needs room evicts."""

from __future__ import annotations

import asyncio
import hashlib
import time

import aiohttp
import pytest

from tests.support import disks, node
from tests.support.node import fetch, two_workers

MiB = 1024 * 1024
MODEL = node.MODEL


def add_files(fakehub, prefix: str, count: int, size: int, seed: int = 0) -> dict[str, str]:
    """``count`` files of distinct bytes (seeds from ``seed`` on); name → sha256."""
    return {
        f"{prefix}-{i}.bin": fakehub.add_large_file(
            "model", MODEL, f"{prefix}-{i}.bin", size, seed + i
        )
        for i in range(count)
    }


@pytest.mark.timeout(180)
def test_concurrent_fills_on_a_small_disk_are_refused_up_front_never_cut_short(fakehub, tmp_path):
    files = add_files(fakehub, "big", 8, 24 * MiB)
    fakehub.faults.bandwidth = 24 * MiB  # each fill takes about a second: all overlap
    with disks.small_disk(tmp_path / "disk", 160) as disk:
        data = disk / "data"
        with two_workers(fakehub, data, tmp_path / "log", min_free_mib=16) as base:
            fakehub.clear_log()
            with disks.Sampler(lambda: disks.free_bytes(disk)) as free:

                async def herd():
                    return await asyncio.gather(*(fetch(f"{base}/{name}") for name in files))

                answers = asyncio.run(herd())
    served = [name for name, (status, _, _) in zip(files, answers, strict=True) if status == 200]
    for name, (status, body, code) in zip(files, answers, strict=True):
        if status == 200:
            assert hashlib.sha256(body).hexdigest() == files[name], f"{name} was cut short"
        else:
            assert (status, code) == (507, "InsufficientStorage"), (name, status, body[:200])
    assert 2 <= len(served) < len(files)
    assert free.low >= 15 * MiB  # the reserve held (today: 0.1 MiB left, fills cut)
    fetched = fakehub.body_bytes(host="cdn")
    assert fetched <= len(served) * 24 * MiB * 1.02  # nothing fetched to be thrown away


@pytest.mark.timeout(180)
def test_one_quota_holds_for_all_workers_of_a_node(fakehub, tmp_path):
    files = add_files(fakehub, "q", 16, 8 * MiB)
    fakehub.faults.bandwidth = 32 * MiB
    data = tmp_path / "data"
    with two_workers(fakehub, data, tmp_path / "log", max_size="64M", min_free_mib=0) as base:
        with disks.Sampler(lambda: disks.stored_bytes(data)) as stored:

            async def pairs():
                names = list(files)
                for i in range(0, len(names), 4):
                    yield await asyncio.gather(*(fetch(f"{base}/{n}") for n in names[i : i + 4]))

            async def run():
                return [answer async for batch in pairs() for answer in batch]

            answers = asyncio.run(run())
        time.sleep(0.5)  # a last eviction may still run
        final = disks.stored_bytes(data)
    assert [status for status, _, _ in answers] == [200] * len(files)
    for (_, body, _), sha256 in zip(answers, files.values(), strict=True):
        assert hashlib.sha256(body).hexdigest() == sha256
    assert stored.high <= 64 * MiB  # today: each worker counts its own fills (~100 MiB)
    assert final <= 64 * MiB


@pytest.mark.timeout(240)
def test_files_read_all_the_time_survive_eviction_by_either_worker(fakehub, tmp_path):
    hot = add_files(fakehub, "hot", 2, 8 * MiB)
    cold = add_files(fakehub, "cold", 30, 8 * MiB, seed=100)
    fakehub.faults.bandwidth = 32 * MiB  # four cold files a second
    data = tmp_path / "data"
    with two_workers(fakehub, data, tmp_path / "log", max_size="96M", min_free_mib=0) as base:
        for name, sha256 in hot.items():
            status, body, _ = asyncio.run(fetch(f"{base}/{name}"))
            assert status == 200 and hashlib.sha256(body).hexdigest() == sha256
        fakehub.clear_log()

        async def readers(stop: asyncio.Event) -> int:
            """One keep-alive connection: every read lands on the same worker, and the
            other worker's evictions must still see them."""
            reads = 0
            connector = aiohttp.TCPConnector(limit=1)
            async with aiohttp.ClientSession(connector=connector) as session:
                while not stop.is_set():
                    for name, sha256 in hot.items():
                        async with session.get(f"{base}/{name}") as resp:
                            body = await resp.read()
                        assert resp.status == 200 and hashlib.sha256(body).hexdigest() == sha256
                        reads += 1
                    await asyncio.sleep(0.05)
            return reads

        async def churn() -> int:
            stop = asyncio.Event()
            reading = asyncio.ensure_future(readers(stop))
            for name, sha256 in cold.items():
                status, body, _ = await fetch(f"{base}/{name}")
                assert status == 200 and hashlib.sha256(body).hexdigest() == sha256
            stop.set()
            return await reading

        reads = asyncio.run(churn())
    assert reads > 50
    for name in hot:  # never evicted, so never fetched again
        assert fakehub.body_bytes(host="cdn", path_contains=hot[name]) == 0, name
    assert fakehub.body_bytes(host="cdn") == 30 * 8 * MiB


@pytest.mark.timeout(180)
def test_a_fill_that_finds_the_disk_full_evicts_colder_files_under_a_quota(fakehub, tmp_path):
    files = add_files(fakehub, "fit", 10, 8 * MiB)
    with disks.small_disk(tmp_path / "disk", 56) as disk:
        data = disk / "data"
        with two_workers(fakehub, data, tmp_path / "log", max_size="1G", min_free_mib=8) as base:
            answers = [asyncio.run(fetch(f"{base}/{name}")) for name in files]
            again = asyncio.run(fetch(f"{base}/fit-9.bin"))
    assert [status for status, _, _ in answers] == [200] * len(files)  # today: 507 from ~5th
    for (_, body, _), sha256 in zip(answers, files.values(), strict=True):
        assert hashlib.sha256(body).hexdigest() == sha256
    assert again[0] == 200 and hashlib.sha256(again[1]).hexdigest() == files["fit-9.bin"]


@pytest.mark.timeout(60)
def test_a_file_larger_than_the_quota_is_refused_before_anything_is_fetched(make_mirror, fakehub):
    fakehub.add_large_file("model", MODEL, "huge.bin", 12 * MiB, seed=7)
    server = make_mirror(max_size=8 * MiB, min_free_mib=0)
    fakehub.clear_log()
    answer = asyncio.run(fetch(f"{server.url}/{MODEL}/resolve/main/huge.bin"))
    assert answer[0] == 507 and answer[2] == "InsufficientStorage"
    assert b"larger than the whole cache quota" in answer[1]
    assert fakehub.body_bytes(host="cdn") == 0
    assert not list((server.data_dir / "tmp").glob("*.part"))
