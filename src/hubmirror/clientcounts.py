"""What each client address has used of its limits, counted for the whole node.

With ``--workers N`` a client's connections land on any of the N server processes;
counted per process, a limit would be N times looser with N workers. So the counts
live in shared memory that the supervising parent (workers.py) creates before the
workers start and hands to each one; a single-process server makes its own, and both
modes run the same code. Imports nothing of the mirror or of HTTP: the light parent
creates it.

A fixed table of ``slots``, each client address falling in the slot of a keyed hash
of it (the key is random per node, so nobody can pick an address that lands on
another client's slot). Two addresses in one slot share their counts: a collision
makes both a little stricter, never looser, and keeps the memory fixed whatever the
number of clients (no table to trim, no address stored). Per slot:

- for the request rate, the time its token bucket is full again (one float: the
  "generic cell rate" form of a token bucket, 0 for a slot never used, i.e. full);
- for fills, how many each worker has in flight for it: a column per worker, so the
  parent can zero the column of a worker that died with fills in flight (its fills
  died with it) before it starts a replacement in its place.

Each operation takes one lock for a few array reads and writes, no I/O; an unheld
``multiprocessing`` lock is taken without a system call.
"""

from __future__ import annotations

import copy
import hashlib
import multiprocessing
import os
from multiprocessing.context import BaseContext

SLOTS = 65536  # 512 KiB of rate buckets, 256 KiB of fill counts per worker
REMEMBERED = 4096  # addresses whose slot a process keeps at hand (hashing costs a few µs)
ORPHAN_WAIT = 0.5  # seconds: the lock held longer than this by a dead worker is freed


class ClientCounts:
    """Rate buckets and fills in flight per client address, shared by a node's workers.

    One instance per node; each worker uses ``for_worker(number)`` of it, ``number``
    being its place among the ``workers`` (kept by its replacements). Without a
    ``context`` to share them with spawned workers, the counts are this process's own."""

    def __init__(
        self, workers: int = 1, slots: int = SLOTS, context: BaseContext | None = None
    ) -> None:
        context = context or multiprocessing.get_context("fork")  # its lock needs no tracker
        self.workers = max(1, workers)
        self.slots = slots
        self.worker = 0
        self._key = os.urandom(16)
        self._slots: dict[str, int] = {}
        self._lock = context.Lock()  # pickled to each spawned worker with the arrays
        self._full_at = context.RawArray("d", slots)
        self._fills = context.RawArray("i", slots * self.workers)

    def for_worker(self, number: int) -> ClientCounts:
        """The same counts, as the worker in place ``number`` adds to them."""
        if not 0 <= number < self.workers:
            raise ValueError(f"worker {number} of {self.workers}")
        view = copy.copy(self)
        view.worker = number
        return view

    def slot(self, address: str) -> int:
        slot = self._slots.get(address)
        if slot is None:
            digest = hashlib.blake2b(address.encode(), digest_size=8, key=self._key).digest()
            slot = int.from_bytes(digest, "little") % self.slots
            if len(self._slots) >= REMEMBERED:
                self._slots.clear()
            self._slots[address] = slot
        return slot

    def take(self, slot: int, now: float, interval: float, burst: int) -> float:
        """Take one token of ``slot``'s bucket (``burst`` tokens, one back every
        ``interval`` seconds): 0 when there was one, else seconds until there is."""
        lock, full_at = self._lock, self._full_at
        lock.acquire()  # acquire/release: cheaper than ``with`` on this lock
        try:
            after = max(full_at[slot], now) + interval  # full again, if this one is taken
            over = after - now - burst * interval
            if over > 1e-9:
                return over
            full_at[slot] = after
            return 0.0
        finally:
            lock.release()

    def in_flight(self, slot: int) -> int:
        """Fills in flight for ``slot``, all workers together."""
        start = slot * self.workers
        self._lock.acquire()
        try:
            return sum(self._fills[start : start + self.workers])
        finally:
            self._lock.release()

    def claim(self, slot: int, limit: int) -> bool:
        """Count one more fill in flight for ``slot`` unless it has ``limit`` already."""
        start = slot * self.workers
        self._lock.acquire()
        try:
            if sum(self._fills[start : start + self.workers]) >= limit:
                return False
            self._fills[start + self.worker] += 1
            return True
        finally:
            self._lock.release()

    def release(self, slot: int) -> None:
        """A fill this worker claimed for ``slot`` has ended."""
        self._lock.acquire()
        try:
            self._fills[slot * self.workers + self.worker] -= 1
        finally:
            self._lock.release()

    def worker_died(self, number: int) -> None:
        """For the parent, once worker ``number`` has died: its fills ended with it.

        A worker killed inside one of the few instructions it holds the lock for never
        releases it; the lock held for ``ORPHAN_WAIT`` seconds can only be that, and is
        taken over here (the other workers wait on it meanwhile)."""
        self._lock.acquire(timeout=ORPHAN_WAIT)  # not acquired: the dead held it, ours now
        try:
            self._fills[number :: self.workers] = [0] * self.slots
        finally:
            self._lock.release()
