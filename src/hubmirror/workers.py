"""Several server processes on one port: the light parent that starts and stops them.

The parent imports no HTTP stack: it only checks the data directory and waits, so
it adds little to the memory the mirror uses.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable

from hubmirror.index.database import open_database
from hubmirror.settings import Settings
from hubmirror.storage.layout import prepare_data_dir


def prepare_store(settings: Settings) -> None:
    """Create or check the data directory and migrate the index, before any worker starts."""
    layout = prepare_data_dir(settings.data)
    open_database(settings.index, layout.index).close()


def spawn_workers(settings: Settings, target: Callable[[Settings], None]) -> int:
    """Run ``target(settings)`` in ``settings.workers`` processes until a signal; exit code."""
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=target, args=(settings,), name=f"hubmirror-worker-{i}")
        for i in range(settings.workers)
    ]
    for worker in workers:
        worker.start()
    stopping: list[int] = []

    def stop(signum, _frame) -> None:
        """Pass SIGTERM on: each worker drains its connections and fills (cli/serve.py)."""
        stopping.append(signum)
        for worker in workers:
            if worker.is_alive():
                worker.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for worker in workers:
        worker.join()
    return 1 if any(_failed(w.exitcode, bool(stopping)) for w in workers) else 0


def _failed(exitcode: int | None, stopping: bool) -> bool:
    """A worker our SIGTERM reached before it installed its handler (still starting) dies
    of the signal: that is a clean stop too."""
    return bool(exitcode) and not (stopping and exitcode == -signal.SIGTERM)
