"""The audit log: who took which file, and every access decision.

Each record goes to two places: the index, which ``hubmirror audit`` queries, and a
JSON-lines file for log shippers and ``jq``. Both are written in batches, at most
``FLUSH_SECONDS`` after the event, by a thread with its own index connection: a
download costs the event loop a dict and a list append, never any I/O.

Several server processes (``--workers``) append to the same file: each batch is one
``write`` on an ``O_APPEND`` descriptor of whole lines, so lines never interleave.

A token is never recorded: callers are named by address, mirror identity and the
token's fingerprint (``callers.token_fingerprint``).

Strangers can make records (every refusal is one), so the index keeps the newest
``keep_rows`` of them (setting ``audit_max_rows``); the file keeps every line, for
the operator's own rotation. A path longer than ``PATH_MAX`` is cut there (with
``…``): no real file has such a name, and a record stays small.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hubmirror.index.audit import AuditRecord, AuditRecords
from hubmirror.index.database import Database
from hubmirror.mirror.access.audit_folds import IDLE_SECONDS, DownloadFolds
from hubmirror.mirror.access.callers import Caller
from hubmirror.types import RepoId, RepoPath, Revision

log = logging.getLogger("hubmirror.audit")

FLUSH_SECONDS = 1.0  # the longest a record waits in memory
BATCH_SIZE = 1000  # a batch this large is written at once
PATH_MAX = 512  # characters of a path a record keeps: made-up paths run to 4 KiB
FIELDS = AuditRecord._fields  # the keys of a record, in the order of the JSON lines
_BLANK = dict.fromkeys(FIELDS) | AuditRecord._field_defaults  # every key, in that order
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


class AuditLog:
    """Records buffered in memory, handed in batches to a writer thread of their own.

    The event loop only appends to a list; encoding, the index transaction (and its
    checkpoints) and the file write happen on the writer's thread and connection.
    """

    enabled = True

    def __init__(
        self,
        database: Database,
        path: Path | None,
        clock: Callable[[], float] = time.time,
        keep_rows: int = 0,
    ) -> None:
        self.clock = clock
        self._writer = _Writer(database, path, keep_rows)
        self._pending: list[dict[str, Any]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._folds = DownloadFolds(self.add)
        self._fold_timer: asyncio.TimerHandle | None = None

    def add(self, record: dict[str, Any]) -> None:
        """Queue one record (keys: ``FIELDS`` but ``time``, which is stamped here).

        The record is written with the next batch: within a second, or at once when
        no event loop runs (a command) or the batch is full.
        """
        record["time"] = self.clock()
        path = record.get("path")
        if path and len(path) > PATH_MAX:
            record["path"] = path[:PATH_MAX] + "…"
        pending = self._pending
        pending.append(record)
        if len(pending) >= BATCH_SIZE:
            self.flush()
        elif self._timer is None:
            self._schedule()

    def add_part(self, record: dict[str, Any], tag: tuple[str, int] | None) -> None:
        """Queue a download record; one of a tagged download's ranged parts (``tag``: its
        id and number of parts, from ``X-Hubmirror-Download``) is folded into one record
        for the whole download (``audit_folds``)."""
        if tag is None or record.get("event") != "download":
            self.add(record)
            return
        self._folds.add(record, *tag)
        if len(self._folds) and self._fold_timer is None:
            self._schedule_expiry()

    def decision(
        self,
        caller: Caller | None,
        repo: RepoId,
        revision: Revision | str | None,
        path: RepoPath | str | None,
        verdict: str,
        reason: str,
    ) -> None:
        """Record what the access policy decided about ``caller`` and ``repo``.

        ``verdict`` is a short word (``allowed``, ``denied``, ``pending``, ``approved``);
        ``reason`` says why, for people (``not on the allow list``). ``caller`` is
        ``None`` for an operator's command such as ``hubmirror approve``.
        """
        self.add(
            {
                "event": "decision",
                "address": caller.address if caller else "-",
                "identity": caller.identity if caller else None,
                "fingerprint": caller.fingerprint if caller else "-",
                "repo_type": repo.repo_type.value,
                "repo": repo.canonical,
                "revision": str(revision) if revision is not None else None,
                "path": str(path) if path else None,
                "verdict": verdict,
                "reason": reason,
            }
        )

    def flush(self) -> None:
        """Hand every queued record to the writer thread."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, []
        if pending:
            self._writer.write(pending)

    def wait(self) -> None:
        """Block until every record handed to the writer is written (not those queued)."""
        self._writer.write([]).result()

    def close(self) -> None:
        if self._fold_timer is not None:
            self._fold_timer.cancel()
            self._fold_timer = None
        self._folds.expire(everything=True)  # a download cut by the shutdown, as far as it got
        self.flush()
        self._writer.close()

    def _schedule_expiry(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a command): nothing waits, write them now
            self._folds.expire(everything=True)
            return
        self._fold_timer = loop.call_later(IDLE_SECONDS / 10, self._expire_folds)

    def _expire_folds(self) -> None:
        self._fold_timer = None
        self._folds.expire()
        if len(self._folds):
            self._schedule_expiry()

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a command without an event loop: nothing to batch with
            self.flush()
            self.wait()
            return
        self._timer = loop.call_later(FLUSH_SECONDS, self.flush)


class _Writer:
    """One thread that writes batches in order: the index, then the JSON-lines file."""

    def __init__(self, database: Database, path: Path | None, keep_rows: int) -> None:
        self.database = database
        self.records = AuditRecords(database)  # this connection is the writer thread's
        self.path = path
        self.keep_rows = keep_rows  # 0: every record stays in the index
        self._fd: int | None = None
        self._thread: ThreadPoolExecutor | None = None

    def write(self, pending: list[dict[str, Any]]) -> Future:
        """Queue a batch behind the earlier ones; the future is done once it is written."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="hubmirror-audit")
        return self._thread.submit(self._write, pending)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.database.close()

    def _write(self, pending: list[dict[str, Any]]) -> None:
        if not pending:
            return
        complete = [_BLANK | record for record in pending]  # keys in FIELDS order
        self._to_index([AuditRecord(*values.values()) for values in complete])
        if self.path is not None:
            self._to_file(complete)

    def _to_index(self, records: list[AuditRecord]) -> None:
        try:
            self.records.add(records)
            if self.keep_rows:
                self.records.trim(self.keep_rows)
        except Exception as exc:  # noqa: BLE001 - a full disk or locked index must not stop serving
            log.error("audit: %d records not written to the index: %s", len(records), exc)

    def _to_file(self, records: list[dict[str, Any]]) -> None:
        data = "".join(_line(values) for values in records).encode()
        try:
            if self._fd is None:
                self._fd = _open_append(self.path)
            _write_all(self._fd, data)
        except OSError as exc:
            log.error("audit: %d records not written to %s: %s", len(records), self.path, exc)


class NoAudit:
    """The audit log when ``audit = false``: records nothing, costs nothing."""

    enabled = False

    def add(self, record: dict[str, Any]) -> None:
        pass

    def add_part(self, record: dict[str, Any], tag: tuple[str, int] | None) -> None:
        pass

    def decision(self, caller, repo, revision, path, verdict: str, reason: str) -> None:
        pass

    def flush(self) -> None:
        pass

    def wait(self) -> None:
        pass

    def close(self) -> None:
        pass


def as_dict(record: AuditRecord) -> dict[str, Any]:
    """A record as its JSON line has it: every field, the time in ISO 8601 UTC."""
    values = record._asdict()
    values["time"] = iso_time(record.time)
    return values


def json_line(record: AuditRecord) -> str:
    return _ENCODER.encode(as_dict(record))


def _line(values: dict[str, Any]) -> str:
    """The JSON line of a complete record dict (its time still in seconds)."""
    values["time"] = iso_time(values["time"])
    return _ENCODER.encode(values) + "\n"


def iso_time(seconds: float) -> str:
    """``2026-11-29T10:00:00.123Z``: sortable as text, readable by people and jq."""
    whole = int(seconds)
    return f"{_iso_second(whole)}.{int((seconds - whole) * 1000):03d}Z"


@functools.lru_cache(maxsize=8)
def _iso_second(whole: int) -> str:
    """Records come in bursts within one second: format it once."""
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _open_append(path: Path) -> int:
    """Open for appending: every write lands at the end, whichever process writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)


def _write_all(fd: int, data: bytes) -> None:
    """One ``write`` for the whole batch; a short write (a full disk) is continued."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
