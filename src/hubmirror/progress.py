"""Progress of long operations: a bar on a terminal, a line in logs.

Sync, import, export and the download client report through ``Progress``; the
command decides how it is shown. Off a terminal (cron, systemd, CI) a line is
logged every ``LOG_INTERVAL`` seconds and at the end, so logs stay readable. On a
terminal, while the bar is shown, log lines (a sync's line per file) are printed
above it: written straight to the terminal they would land on the bar's line and
cut it to pieces.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from typing import Protocol

LOG_INTERVAL = 5.0

log = logging.getLogger("hubmirror.progress")


class Progress(Protocol):
    def add_total(self, nbytes: int, files: int = 0) -> None: ...
    def advance(self, nbytes: int) -> None: ...
    def file_done(self) -> None: ...
    def note(self, message: str) -> None: ...
    def close(self) -> None: ...


class NoProgress:
    """For callers (tests, library users) that want nothing shown."""

    def add_total(self, nbytes: int, files: int = 0) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def file_done(self) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def close(self) -> None:
        pass


class TransferProgress:
    """Bytes and files of one operation; thread-safe, as downloads report from threads."""

    def __init__(self, label: str, *, bar: bool | None = None, interval: float = LOG_INTERVAL):
        self.label = label
        self.total = self.done = 0
        self.files_total = self.files_done = 0
        self.interval = interval
        self._lock = threading.Lock()
        self._started = self._last_line = time.monotonic()
        use_bar = sys.stderr.isatty() if bar is None else bar
        self._bar = _make_bar(label) if use_bar else None
        self._logs = contextlib.ExitStack()
        if self._bar is not None:
            self._logs.enter_context(_logs_above_the_bar())

    def add_total(self, nbytes: int, files: int = 0) -> None:
        with self._lock:
            self.total += nbytes
            self.files_total += files
            if self._bar is not None:
                self._bar.total = self.total
                self._bar.refresh()

    def advance(self, nbytes: int) -> None:
        with self._lock:
            self.done += nbytes
            if self._bar is not None:
                self._bar.update(nbytes)
            elif time.monotonic() - self._last_line >= self.interval:
                self._log_line()

    def file_done(self) -> None:
        with self._lock:
            self.files_done += 1
            if self._bar is not None:
                self._bar.set_postfix_str(f"{self.files_done}/{self.files_total} files")

    def note(self, message: str) -> None:
        if self._bar is not None:
            self._bar.write(message, file=sys.stderr)
        else:
            log.info("%s: %s", self.label, message)

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
                self._logs.close()
            elif self.total or self.files_total:  # nothing to tell when nothing was due
                self._log_line()

    def _log_line(self) -> None:
        self._last_line = now = time.monotonic()
        rate = self.done / max(now - self._started, 1e-6)
        percent = f"{100 * self.done / self.total:.0f}% " if self.total else ""
        log.info(
            "%s: %s%s of %s, %d/%d files, %s/s",
            self.label,
            percent,
            human_bytes(self.done),
            human_bytes(self.total),
            self.files_done,
            self.files_total,
            human_bytes(rate),
        )


def _make_bar(label: str):
    from tqdm import tqdm

    return tqdm(total=0, unit="B", unit_scale=True, unit_divisor=1024, desc=label, file=sys.stderr)


def _logs_above_the_bar() -> contextlib.AbstractContextManager:
    """Console log lines go through ``tqdm.write``, which prints them above the bar;
    nothing changes when no handler writes to the terminal (a library user's own logging)."""
    handlers = logging.getLogger().handlers
    if not any(_on_console(h) for h in handlers):
        return contextlib.nullcontext()
    from tqdm.contrib.logging import logging_redirect_tqdm

    return logging_redirect_tqdm()


def _on_console(handler: logging.Handler) -> bool:
    return isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stderr, sys.stdout)


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(count) < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"


def human_rate(bytes_per_second: float) -> str:
    """Network speed as people quote it: decimal megabytes per second (``12.5 MB/s``)."""
    for unit in ("B/s", "kB/s", "MB/s", "GB/s"):
        if bytes_per_second < 1000 or unit == "GB/s":
            return (
                f"{bytes_per_second:.0f} {unit}"
                if unit == "B/s"
                else f"{bytes_per_second:.1f} {unit}"
            )
        bytes_per_second /= 1000
    return f"{bytes_per_second:.1f} GB/s"


def human_duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h 20 min``, ``2 d 4 h``: as precise as a glance needs."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, hours = whole // 60, whole // 3600
    if hours == 0:
        return f"{minutes} min"
    if hours < 48:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h"
    return f"{hours // 24} d {hours % 24} h" if hours % 24 else f"{hours // 24} d"


class CountingProgress(NoProgress):
    """Counts only; someone else (a streamed HTTP answer) shows the numbers."""

    def __init__(self) -> None:
        self.total = self.done = self.files_total = self.files_done = 0

    def add_total(self, nbytes: int, files: int = 0) -> None:
        self.total += nbytes
        self.files_total += files

    def advance(self, nbytes: int) -> None:
        self.done += nbytes

    def file_done(self) -> None:
        self.files_done += 1

    def to_json(self) -> dict:
        return {
            "bytes": self.done,
            "total": self.total,
            "files": self.files_done,
            "files_total": self.files_total,
        }
