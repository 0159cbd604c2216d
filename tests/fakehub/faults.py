"""Fault switches: the ways the internet fails, one attribute each.

Tests flip these from their own thread while the server loop reads them, so every switch is
a plain attribute read at the moment it matters (per request, per body chunk). `down` is
the exception: setting it really closes or reopens the listening sockets, through a
callback the FakeHub installs.
"""

import asyncio
from collections.abc import Callable

HANG_POLL = 0.02


class Faults:
    """Current fault settings; see the FakeHub docstring for what each switch does."""

    def __init__(self) -> None:
        self._switch_down: Callable[[bool], None] | None = None
        self._down = False
        self.reset()

    def reset(self) -> None:
        self.latency: float = 0.0
        self.bandwidth: int | None = None
        self.fail_status: int | None = None
        self.fail_count: int | None = None
        self.fail_every: int | None = None
        self._requests_seen = 0
        self.retry_after: int | None = None
        self.drop_after: int | None = None
        self.drop_count: int | None = None
        self.hang: bool = False
        self.reset_connections: bool = False  # accept, then reset the TCP connection unanswered
        self.gzip: bool = False
        self.corrupt_xorbs: bool = False  # the CAS flips a data byte in every xorb body
        self.wrong_xet_hashes: set[str] = set()  # sha256s whose announced Xet hash is wrong
        self.info_body: object = None  # repo info answers are this JSON, 200, to every caller
        self.down = False

    @property
    def down(self) -> bool:
        return self._down

    @down.setter
    def down(self, value: bool) -> None:
        if value != self._down and self._switch_down is not None:
            self._switch_down(value)
        self._down = value

    def take_failure(self) -> int | None:
        """The status to fail this request with, counting it against fail_count.

        With fail_every = N (flapping), only every Nth request fails, with fail_status or 503.
        """
        if self.fail_every:
            self._requests_seen += 1
            if self._requests_seen % self.fail_every:
                return None
            return self.fail_status or 503
        status = self.fail_status
        if status is None or self.fail_count is None:
            return status
        if self.fail_count <= 0:
            return None
        self.fail_count -= 1
        if self.fail_count == 0:
            self.fail_status = self.fail_count = None
        return status

    def take_drop(self, length: int) -> int | None:
        """Bytes to send before cutting a file body of `length` bytes, or None for no cut.

        A body no longer than drop_after is sent whole and does not count against drop_count.
        """
        limit = self.drop_after
        if limit is None or limit >= length:
            return None
        if self.drop_count is None:
            return limit
        if self.drop_count <= 0:
            return None
        self.drop_count -= 1
        if self.drop_count == 0:
            self.drop_after = self.drop_count = None
        return limit

    async def delay(self) -> None:
        """Latency, then hang for as long as `hang` stays set."""
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        while self.hang:
            await asyncio.sleep(HANG_POLL)
