"""``--workers N``: a client's limits are the node's, whichever worker its connections reach."""

from __future__ import annotations

import json
import os
import signal

import pytest

from tests.fakehub.largefiles import large_file
from tests.server.test_worker_supervision import _workers_of
from tests.support.commands import start_hubmirror
from tests.support.http import get, head
from tests.support.ports import free_port, wait_for_listeners, wait_listening
from tests.support.waiting import wait_for

MODEL = "acme/tiny-bert"
MiB = 1024 * 1024
SIZE = 16 * MiB


def _start_node(fakehub, tmp_path, **env: str):
    port = free_port()
    args = ("--port", str(port), "--workers", "2", "--data", str(tmp_path / "d"))
    proc = start_hubmirror("serve", *args, "--upstream", fakehub.url, env=env)
    wait_listening(port, proc)
    return proc, port


def _one_byte(url: str):
    """A client reading one byte of a file and leaving: its fill goes on, counted."""
    return get(url, headers={"Range": "bytes=0-0"})


def _first_byte(seed: int) -> bytes:
    with large_file(SIZE, seed)[0].open("rb") as handle:
        return handle.read(1)


def _stop(proc) -> str:
    proc.terminate()
    _, stderr = proc.communicate(timeout=60)
    return stderr


def _refused_by(stderr: str) -> set[str]:
    """The pids of the workers whose access log shows a 429."""
    return {
        line.split("[", 1)[1].split("]", 1)[0]
        for line in stderr.splitlines()
        if "hubmirror.access" in line and "config.json 429" in line
    }


@pytest.mark.timeout(180)
async def test_two_workers_start_no_more_fills_for_a_client_than_the_limit(fakehub, tmp_path):
    """Cold files asked over separate connections, which SO_REUSEPORT spreads over both
    workers: the client gets the limit's number of fills for the node, 429 for the rest,
    and its place back when one ends, whichever worker ran it."""
    names = [f"cold-{n}.bin" for n in range(8)]
    for n, name in enumerate(names):
        fakehub.add_large_file("model", MODEL, name, SIZE, seed=60 + n)
    proc, port = _start_node(fakehub, tmp_path, HUBMIRROR_MAX_FILLS_PER_CLIENT="2")
    try:
        await wait_for_listeners(port, 2)
        urls = [f"http://127.0.0.1:{port}/{MODEL}/resolve/main/{name}" for name in names]
        fakehub.faults.bandwidth = 128 * 1024  # per connection: a fill takes two minutes
        answers = [_one_byte(url) for url in urls[:6]]
        admitted = [n for n, a in enumerate(answers) if a.status == 206]
        assert len(admitted) == 2, [a.status for a in answers]
        assert [answers[n].body for n in admitted] == [_first_byte(60 + n) for n in admitted]
        for refused in (a for a in answers if a.status != 206):
            assert (refused.status, refused.header("X-Error-Code")) == (429, "TooManyRequests")
            assert int(refused.header("Retry-After")) >= 1
            assert "at most 2 per client" in json.loads(refused.body)["error"]
        fakehub.faults.bandwidth = None
        for n in admitted:
            wait_for(
                lambda n=n: _one_byte(urls[n]).header("X-Cache-Status") == "HIT",
                f"{names[n]} to be stored",
                timeout=60,
                every=0.1,
            )
        fakehub.faults.bandwidth = 128 * 1024
        later = [_one_byte(url) for url in urls[6:8]]  # both ended: room for two again
        assert [a.status for a in later] == [206, 206]
        fakehub.faults.bandwidth = None
    finally:
        _stop(proc)


@pytest.mark.timeout(180)
async def test_the_fills_of_a_killed_worker_no_longer_count_against_their_client(fakehub, tmp_path):
    names = [f"kill-{n}.bin" for n in range(4)]
    for n, name in enumerate(names):
        fakehub.add_large_file("model", MODEL, name, SIZE, seed=70 + n)
    proc, port = _start_node(fakehub, tmp_path, HUBMIRROR_MAX_FILLS_PER_CLIENT="2")
    try:
        await wait_for_listeners(port, 2)
        first = wait_for(lambda: len(_workers_of(proc.pid)) == 2 and _workers_of(proc.pid))
        urls = [f"http://127.0.0.1:{port}/{MODEL}/resolve/main/{name}" for name in names]
        fakehub.faults.bandwidth = 128 * 1024  # the fills are still running when killed
        assert [_one_byte(url).status for url in urls[:3]] == [206, 206, 429]
        for pid in first:
            os.kill(pid, signal.SIGKILL)  # every fill in flight dies with its worker
        wait_for(
            lambda: not (_workers_of(proc.pid) & first) and len(_workers_of(proc.pid)) == 2,
            "two replacement workers",
            timeout=60,
        )
        await wait_for_listeners(port, 2)
        again = [_one_byte(url) for url in urls[2:4]]
        assert [(a.status, a.body) for a in again] == [
            (206, _first_byte(72)),
            (206, _first_byte(73)),
        ]
        fakehub.faults.bandwidth = None
    finally:
        _stop(proc)


@pytest.mark.timeout(120)
async def test_two_workers_allow_a_client_one_burst_for_the_node(fakehub, tmp_path):
    env = {"HUBMIRROR_RATE_LIMIT": "0.001", "HUBMIRROR_RATE_BURST": "6"}
    proc, port = _start_node(fakehub, tmp_path, **env)
    try:
        await wait_for_listeners(port, 2)
        target = f"http://127.0.0.1:{port}/{MODEL}/resolve/main/config.json"
        answers = [head(target) for _ in range(30)]  # a fresh connection each
    finally:
        stderr = _stop(proc)
    statuses = [a.status for a in answers]
    assert (statuses.count(200), statuses.count(429)) == (6, 24), statuses
    assert {a.header("X-Error-Code") for a in answers if a.status == 429} == {"TooManyRequests"}
    assert len(_refused_by(stderr)) == 2, "both workers refused some"
