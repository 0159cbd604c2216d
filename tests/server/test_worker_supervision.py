"""``--workers N``: a worker that dies is logged with its cause and replaced, and
``/metrics`` and ``/readyz`` say so."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import aiohttp
import pytest

from hubmirror.workers import deaths_in_a_row, exit_cause, restart_delay
from tests.fakehub import TINY_BERT
from tests.support.commands import start_hubmirror
from tests.support.http import get
from tests.support.ports import free_port, wait_for_listeners, wait_listening
from tests.support.waiting import wait_for


def _workers_of(parent: int) -> set[int]:
    """The pids of the server processes the parent spawned (not its resource tracker)."""
    pids: set[int] = set()
    for children in Path(f"/proc/{parent}/task").glob("*/children"):
        for pid in children.read_text().split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"spawn_main" in cmdline:
                pids.add(int(pid))
    return pids


def _metric(url: str, name: str) -> str | None:
    for line in get(url + "/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            return line.split()[1]
    return None


@pytest.mark.timeout(120)
async def test_a_killed_worker_is_logged_and_replaced_and_metrics_count_it(fakehub, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ("--port", str(port), "--workers", "2", "--data", str(tmp_path / "d"))
    proc = start_hubmirror("serve", *args, "--upstream", fakehub.url)
    try:
        wait_listening(port, proc)
        await wait_for_listeners(port, 2)
        first = wait_for(lambda: len(_workers_of(proc.pid)) == 2 and _workers_of(proc.pid))
        assert _metric(url, "hubmirror_worker_restarts_total") == "0"
        killed = min(first)
        os.kill(killed, signal.SIGKILL)
        replaced = wait_for(
            lambda: (now := _workers_of(proc.pid)) - first and len(now) == 2 and now,
            "a replacement worker",
        )
        replacement = (replaced - first).pop()
        await wait_for_listeners(port, 2)
        wait_for(lambda: _metric(url, "hubmirror_workers_alive") == "2", "2 workers alive")
        restarts = {_metric(url, "hubmirror_worker_restarts_total") for _ in range(8)}
        assert restarts == {"1"}, "every worker reads the parent's count"
        assert get(url + "/readyz").status == 200
        target = f"{url}/{TINY_BERT}/resolve/main/vocab.txt"
        connector = aiohttp.TCPConnector(force_close=True)  # new connections: both workers
        vocab = fakehub.file_bytes("model", TINY_BERT, "main", "vocab.txt")
        async with aiohttp.ClientSession(connector=connector) as session:
            for _ in range(40):
                async with session.get(target) as resp:
                    assert resp.status == 200
                    assert await resp.read() == vocab
        assert proc.poll() is None, "the node keeps running"
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr[-2000:]
    deaths = [line for line in stderr.splitlines() if "hubmirror.workers" in line]
    assert len(deaths) == 1, deaths
    assert f"(pid {killed}) died" in deaths[0] and "killed by SIGKILL" in deaths[0]
    assert f"[{proc.pid}] ERROR" in deaths[0], "the parent logs it"
    served = {line for line in stderr.splitlines() if "vocab.txt 200" in line}
    assert any(f"[{replacement}]" in line for line in served), "the replacement serves"


@pytest.mark.timeout(120)
async def test_readyz_is_not_ready_while_a_worker_is_missing(fakehub, tmp_path):
    """Between a worker's death and its replacement the node is below its count:
    ``/readyz`` on the surviving worker says which and why."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ("--port", str(port), "--workers", "2", "--data", str(tmp_path / "d"))
    proc = start_hubmirror("serve", *args, "--upstream", fakehub.url)
    try:
        wait_listening(port, proc)
        await wait_for_listeners(port, 2)
        first = wait_for(lambda: len(_workers_of(proc.pid)) == 2 and _workers_of(proc.pid))
        survivor, victim = sorted(first)
        os.kill(victim, signal.SIGKILL)

        def readyz_of_survivor():
            try:
                reply = get(url + "/readyz")
            except OSError:  # a connection queued on the killed worker's socket
                return None
            return reply if reply.status == 503 else None

        reply = wait_for(readyz_of_survivor, "/readyz 503 while a worker is missing")
        assert b"workers: 1 of 2 alive" in reply.body
        assert survivor in _workers_of(proc.pid)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_restart_back_off_doubles_to_a_cap_and_starts_again_after_a_stable_run():
    deaths = 0
    delays = []
    for _ in range(10):  # a worker dying at once, again and again
        deaths = deaths_in_a_row(deaths, uptime=0.2)
        delays.append(restart_delay(deaths))
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]
    assert restart_delay(deaths_in_a_row(10_000, uptime=0.2)) == 30.0
    assert deaths_in_a_row(deaths, uptime=3600.0) == 1  # up an hour: back to the first delay
    assert restart_delay(deaths_in_a_row(deaths, uptime=3600.0)) == 0.5


def test_exit_cause_names_the_signal_or_the_exit_code():
    assert exit_cause(-signal.SIGKILL) == "killed by SIGKILL"
    assert exit_cause(-signal.SIGSEGV) == "killed by SIGSEGV"
    assert exit_cause(3) == "exit code 3"


@pytest.mark.timeout(120)
def test_workers_that_cannot_start_stop_the_node_instead_of_restarting(tmp_path):
    """A port held by another program: every worker fails at once; restarting would loop
    for ever, so the node exits 1 as a single process does."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    args = ("--host", "127.0.0.1", "--port", str(port), "--workers", "2")
    try:
        proc = start_hubmirror("serve", *args, "--data", str(tmp_path / "d"))
        _, stderr = proc.communicate(timeout=60)
    finally:
        taken.close()
    assert proc.returncode == 1, stderr[-2000:]
    assert "could not start: exit code 1" in stderr
    assert "restarting it" not in stderr
