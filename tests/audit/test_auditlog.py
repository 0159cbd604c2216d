"""The AuditLog itself: batched writes, whole lines from several writers, --since parsing."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime

from hubmirror.cli.audit import parse_since
from hubmirror.index.database import Database
from hubmirror.index.queries import Index
from hubmirror.mirror.access.audit import BATCH_SIZE, AuditLog, iso_time
from hubmirror.types import RepoId, RepoType


def _record(n: int, path: str = "config.json") -> dict:
    return {
        "event": "download",
        "address": "127.0.0.1",
        "identity": None,
        "fingerprint": "anonymous",
        "repo_type": "model",
        "repo": "acme/tiny-bert",
        "path": f"{path}-{n}",
        "bytes": n,
    }


def _index(tmp_path) -> Index:
    return Index(Database(tmp_path / "index.sqlite"))


def _log(tmp_path, **kw) -> AuditLog:
    return AuditLog(Database(tmp_path / "index.sqlite"), tmp_path / "audit.jsonl", **kw)


def test_records_wait_in_memory_until_the_batch_is_handed_over(tmp_path):
    index = _index(tmp_path)
    log = _log(tmp_path, clock=lambda: 1000.0)

    async def record_two() -> None:
        log.add(_record(1))
        log.add(_record(2))
        log.wait()

    asyncio.run(record_two())
    assert index.audit.find(None, None, None, 10) == []
    assert not (tmp_path / "audit.jsonl").exists()
    log.flush()
    log.wait()
    assert [r.bytes for r in index.audit.find(None, None, None, 10)] == [1, 2]
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert [json.loads(line)["time"] for line in lines] == ["1970-01-01T00:16:40.000Z"] * 2
    log.close()


def test_a_full_batch_is_handed_over_at_once(tmp_path):
    index = _index(tmp_path)
    log = _log(tmp_path)

    async def record_a_batch_and_one() -> None:
        for n in range(BATCH_SIZE + 1):
            log.add(_record(n))
        log.wait()

    asyncio.run(record_a_batch_and_one())
    assert len(index.audit.find(None, None, None, 2 * BATCH_SIZE)) == BATCH_SIZE
    log.close()
    assert len(index.audit.find(None, None, None, 2 * BATCH_SIZE)) == BATCH_SIZE + 1


def test_a_decision_without_an_event_loop_is_written_at_once(tmp_path):
    index = _index(tmp_path)
    log = _log(tmp_path)
    repo = RepoId(RepoType.MODEL, "acme/bert")
    log.decision(None, repo, None, None, "approved", "hubmirror approve")
    (record,) = index.audit.find(repo, None, None, 10)
    assert (record.event, record.verdict, record.reason) == (
        "decision",
        "approved",
        "hubmirror approve",
    )
    assert json.loads((tmp_path / "audit.jsonl").read_text())["verdict"] == "approved"
    log.close()


def test_two_writers_on_one_file_never_break_a_line(tmp_path):
    """As two worker processes do: each batch is one O_APPEND write of whole lines."""
    long_path = "x" * 3000  # batches far larger than a pipe buffer or a page

    async def write_batches(log: AuditLog, name: str) -> None:
        for batch in range(20):
            for n in range(50):
                log.add(_record(n, path=f"{name}/{batch}/{long_path}"))
            log.flush()  # 50 lines, ~150 KB, in one write

    def writer(name: str) -> None:
        log = _log(tmp_path)
        asyncio.run(write_batches(log, name))
        log.close()

    Database(tmp_path / "index.sqlite").close()  # migrated once, as `serve` does before workers
    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert len(lines) == 2 * 20 * 50
    assert {line["path"].split("/")[0] for line in lines} == {"a", "b"}
    assert len(_index(tmp_path).audit.find(None, None, None, 5000)) == 2 * 20 * 50


def test_since_reads_ages_and_times():
    now = 1_800_000_000.0
    assert parse_since("30m", now) == now - 1800
    assert parse_since("2d", now) == now - 2 * 86400
    assert parse_since("1.5h", now) == now - 5400
    moment = datetime(2026, 11, 29, 10, 0, tzinfo=UTC).timestamp()
    assert parse_since("2026-11-29T10:00", now) == moment
    assert parse_since("2026-11-29T10:00Z", now) == moment
    assert parse_since("2026-11-29T11:00+01:00", now) == moment


def test_times_are_iso_utc_with_milliseconds():
    assert iso_time(1_800_000_000.25) == "2027-01-15T08:00:00.250Z"
