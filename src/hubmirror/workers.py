"""Several server processes on one port: the light parent that starts, watches and stops them.

The parent imports no HTTP stack: it only checks the data directory, waits for a worker
to end, and starts a replacement, so it adds little to the memory the mirror uses.

A worker that dies while the node is not stopping (killed by the kernel's OOM killer,
a crash) is logged with its cause and replaced after a back-off: 0.5 s, doubling at
each death in a row up to 30 s, back to 0.5 s once a worker stayed up a minute. A
worker crashing in a loop thus costs a start every 30 s, not a spinning CPU. Only a
worker that cannot start at all (it exits with an error in its first seconds, as for
a port taken or a bad setting) stops the node, as a single process would.

Each worker is handed the node's shared state, created here before any starts: the
census, and the per-client counts of the limits (clientcounts.py) with its place
among the workers; a dead worker's fills in flight are released before its
replacement takes its place.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.context import SpawnContext, SpawnProcess

from hubmirror.census import WorkerCensus
from hubmirror.clientcounts import ClientCounts
from hubmirror.index.database import open_database
from hubmirror.settings import Settings
from hubmirror.storage.layout import prepare_data_dir

FIRST_DELAY = 0.5  # seconds before the first restart of a worker
MAX_DELAY = 30.0  # the longest wait between two restarts of a worker dying in a loop
STABLE_AFTER = 60.0  # a worker up this long starts the back-off anew when it dies
START_GRACE = 5.0  # a first worker failing this early cannot start: the node stops

log = logging.getLogger("hubmirror.workers")

Target = Callable[[Settings, WorkerCensus, ClientCounts | None], None]


def prepare_store(settings: Settings) -> None:
    """Create or check the data directory and migrate the index, before any worker starts."""
    layout = prepare_data_dir(settings.data)
    open_database(settings.index, layout.index).close()


def deaths_in_a_row(previous: int, uptime: float) -> int:
    """How many times in a row a worker slot has died, counting this death after ``uptime``
    seconds: a worker that stayed up ``STABLE_AFTER`` starts the count again."""
    return 1 if uptime >= STABLE_AFTER else previous + 1


def restart_delay(deaths: int) -> float:
    """Seconds to wait before restarting a worker that died ``deaths`` times in a row."""
    return min(FIRST_DELAY * 2 ** min(max(deaths - 1, 0), 16), MAX_DELAY)


def exit_cause(exitcode: int) -> str:
    """What ended a process, from its exit code: a signal by name, or the code."""
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


@dataclass
class _Slot:
    """One of the ``workers`` places: its process now, or when its replacement starts."""

    number: int
    process: SpawnProcess | None = None
    started: float = 0.0
    generation: int = 0
    deaths: int = 0
    restart_at: float | None = None

    @property
    def name(self) -> str:
        return f"hubmirror-worker-{self.number}"


def client_counts(context: SpawnContext, settings: Settings) -> ClientCounts | None:
    """The node's per-client counts for its workers, when a per-client limit is on."""
    if settings.max_fills_per_client <= 0 and settings.rate_limit <= 0:
        return None
    return ClientCounts(settings.workers, context=context)


class _Supervisor:
    def __init__(
        self,
        context: SpawnContext,
        census: WorkerCensus,
        settings: Settings,
        target: Target,
        clients: ClientCounts | None = None,
    ) -> None:
        self._context = context
        self._census = census
        self._clients = clients
        self._settings = settings
        self._target = target
        self._slots = [_Slot(i) for i in range(settings.workers)]
        self._stopping = False
        self._cannot_start = False
        self._exitcodes: list[int] = []  # of the workers that ended while stopping

    def stop(self, _signum=None, _frame=None) -> None:
        """Pass SIGTERM on: each worker drains its connections and fills (cli/serve.py)."""
        self._stopping = True
        for slot in self._slots:
            if slot.process is not None and slot.process.is_alive():
                slot.process.terminate()

    def run(self) -> int:
        for slot in self._slots:
            self._start(slot)
        while True:
            self._census.set_alive(sum(1 for s in self._slots if s.process is not None))
            running = [s.process.sentinel for s in self._slots if s.process is not None]
            if self._stopping and not running:
                break
            wait(running, timeout=self._next_restart_in())
            now = time.monotonic()
            for slot in self._slots:
                if slot.process is not None and slot.process.exitcode is not None:
                    self._ended(slot, now)
                if slot.restart_at is not None and slot.restart_at <= now and not self._stopping:
                    self._census.count_restart()
                    self._start(slot)
        failed = any(_failed(code, True) for code in self._exitcodes)
        return 1 if self._cannot_start or failed else 0

    def _start(self, slot: _Slot) -> None:
        clients = self._clients.for_worker(slot.number) if self._clients else None
        process = self._context.Process(
            target=self._target, args=(self._settings, self._census, clients), name=slot.name
        )
        process.start()
        slot.process, slot.started, slot.restart_at = process, time.monotonic(), None
        slot.generation += 1
        if self._stopping:  # the signal came while it started: it stops too
            process.terminate()

    def _ended(self, slot: _Slot, now: float) -> None:
        process, uptime = slot.process, now - slot.started
        assert process is not None and process.exitcode is not None
        slot.process = None
        if self._clients is not None:
            self._clients.worker_died(slot.number)  # its fills in flight died with it
        if self._stopping:
            self._exitcodes.append(process.exitcode)
            return
        cause = exit_cause(process.exitcode)
        if slot.generation == 1 and process.exitcode > 0 and uptime < START_GRACE:
            log.error("worker %s (pid %d) could not start: %s", slot.name, process.pid, cause)
            self._cannot_start = True
            self.stop()
            return
        slot.deaths = deaths_in_a_row(slot.deaths, uptime)
        delay = restart_delay(slot.deaths)
        slot.restart_at = now + delay
        log.error(
            "worker %s (pid %d) died after %.0f s: %s; restarting it in %g s",
            slot.name,
            process.pid,
            uptime,
            cause,
            delay,
        )

    def _next_restart_in(self) -> float | None:
        """Seconds to the next restart due, at most 1 (a signal while no worker runs must
        not wait out a 30 s back-off), or ``None``: wake only when a worker ends."""
        due = [s.restart_at for s in self._slots if s.restart_at is not None]
        if not due or self._stopping:
            return None
        return min(max(min(due) - time.monotonic(), 0.0), 1.0)


def spawn_workers(settings: Settings, target: Target) -> int:
    """Run ``target(settings, census, client_counts)`` in ``settings.workers`` processes,
    replacing any that dies, until SIGTERM or SIGINT; the exit code."""
    context = multiprocessing.get_context("spawn")
    census = WorkerCensus(context, settings.workers)
    clients = client_counts(context, settings)
    supervisor = _Supervisor(context, census, settings, target, clients)
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    return supervisor.run()


def _failed(exitcode: int | None, stopping: bool) -> bool:
    """A worker our SIGTERM reached before it installed its handler (still starting) dies
    of the signal: that is a clean stop too."""
    return bool(exitcode) and not (stopping and exitcode == -signal.SIGTERM)
