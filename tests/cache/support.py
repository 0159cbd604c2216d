"""A store filled by ``hubmirror sync`` of tiny-bert and tiny-csv, and ways to look at it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.support.clients import DATASET, MODEL, TINY_BERT, TINY_CSV
from tests.support.commands import hubmirror

SYNCED = {(MODEL, TINY_BERT): TINY_BERT, (DATASET, TINY_CSV): f"dataset:{TINY_CSV}"}


def filled_store(fakehub, data: Path) -> Path:
    hubmirror(
        "sync",
        TINY_BERT,
        f"dataset:{TINY_CSV}",
        "--data",
        str(data),
        "--upstream",
        fakehub.url,
        check=True,
    )
    return data


def cache(data: Path, *args: str, check: bool = True):
    return hubmirror("cache", *args, "--data", str(data), "--offline", check=check)


def cache_json(data: Path, *args: str) -> dict:
    return json.loads(cache(data, *args, "--json").stdout)


def stored_files(data: Path) -> dict[str, int]:
    """sha256 -> size of every blob file on disk."""
    return {p.name: p.stat().st_size for p in (data / "blobs").rglob("*") if p.is_file()}


def repo_blobs(fakehub, repo_type: str, repo_id: str) -> dict[str, int]:
    """sha256 -> size of the distinct files of the repo's main commit, from the hub itself."""
    commit = fakehub.commit(repo_type, repo_id, "main")
    return {blob.sha256: blob.size for blob in commit.files.values()}


def set_last_access(data: Path, when: dict[str, float]) -> None:
    """Pretend blobs were last read at these times (what a running server records)."""
    with sqlite3.connect(data / "index.sqlite") as db:
        db.executemany(
            "UPDATE blobs SET last_access=? WHERE sha256=?", [(t, s) for s, t in when.items()]
        )


def indexed_blobs(data: Path) -> set[str]:
    with sqlite3.connect(data / "index.sqlite") as db:
        return {sha for (sha,) in db.execute("SELECT sha256 FROM blobs")}


def planned(output: str) -> set[str]:
    """The sha256s a printed plan lists."""
    return {line.split()[0] for line in output.splitlines() if line.startswith("  ")}
