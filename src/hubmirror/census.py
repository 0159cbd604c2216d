"""How many server processes of a ``--workers N`` node are alive, and how often one was restarted.

The supervising parent (workers.py) writes it; every worker reads it for ``/readyz``
and ``/metrics``. It is three integers in shared memory, created before the workers
start and handed to each one, so reading it costs no I/O and no lock on the parent.
Imports nothing of the mirror or of HTTP: the light parent and the server both use it.
"""

from __future__ import annotations

from multiprocessing.context import SpawnContext

_CONFIGURED, _ALIVE, _RESTARTS = range(3)


class WorkerCensus:
    """Workers configured, alive now, and restarted since the node started."""

    def __init__(self, context: SpawnContext, configured: int) -> None:
        self._values = context.Array("q", [configured, 0, 0])  # pickled to each spawned worker

    @property
    def configured(self) -> int:
        return self._values[_CONFIGURED]

    @property
    def alive(self) -> int:
        return self._values[_ALIVE]

    @property
    def restarts(self) -> int:
        return self._values[_RESTARTS]

    def set_alive(self, count: int) -> None:
        self._values[_ALIVE] = count

    def count_restart(self) -> None:
        with self._values.get_lock():
            self._values[_RESTARTS] += 1

    def problems(self) -> list[str]:
        """For ``/readyz``: a node below its configured workers is not ready (a dead worker
        is replaced within seconds; one that keeps dying keeps the node out of rotation)."""
        if self.alive >= self.configured:
            return []
        return [f"workers: {self.alive} of {self.configured} alive, restarting the others"]
