"""Loopback ports for servers the tests start: a free one, and waiting until one listens.

Free of hubmirror imports, so the fake hub's own tests may use it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator


def free_port() -> int:
    """A loopback port nothing listens on right now (the OS picks it; free until reused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dead_url() -> str:
    """A loopback URL nothing listens on: connections are refused at once."""
    return f"http://127.0.0.1:{free_port()}"


@contextlib.contextmanager
def blackhole() -> Iterator[str]:
    """A loopback URL whose connections never complete: its accept queue is full and never
    drained, so the kernel drops further SYNs, as a firewall that silently blocks a host."""
    with contextlib.ExitStack() as held:
        listener = held.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        for _ in range(3):
            filler = held.enter_context(socket.socket())
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(listener.getsockname())
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def is_listening(port: int) -> bool:
    """Whether a TCP connection to ``port`` on loopback is accepted."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 20) -> None:
    """Until ``port`` accepts connections; fails with the stderr of ``proc`` if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read())
        if is_listening(port):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing started listening on port {port}")


async def wait_for_listeners(port: int, count: int) -> None:
    """Wait until ``count`` sockets listen on ``port`` (one per worker, SO_REUSEPORT)."""
    for _ in range(300):
        if _listeners(port) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} workers did not start listening on {port}")


def _listeners(port: int) -> int:
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for r in rows if r[1].endswith(f":{port:04X}") and r[3] == "0A")
