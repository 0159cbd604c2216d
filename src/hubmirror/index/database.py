"""SQLite in WAL mode with numbered migrations; the only module that opens sqlite3.

Queries are a few microseconds each, so they run on the event loop's thread
without a pool: one connection, one writer, readers unblocked by WAL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path


class Database:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=5000")
        migrate(self.conn)

    def close(self) -> None:
        self.conn.close()

    def execute(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: list[tuple]) -> None:
        if self.conn.in_transaction:
            self.conn.executemany(sql, rows)
            return
        with self.transaction():  # one commit for all rows, not one per row
            self.conn.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside become visible together, or not at all."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every ``migrations/NNNN_*.sql`` newer than ``user_version``; return the version."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, sql in _migrations():
        if number <= current:
            continue
        # One script in one transaction: SQLite's own parser splits the statements, so
        # comments may say anything (a ';' in a comment broke a hand-made splitter).
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{sql}\n;PRAGMA user_version = {number};\nCOMMIT;"
            )
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        current = number
    return current


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("hubmirror.index") / "migrations"
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".sql"):
            found.append((int(item.name.split("_", 1)[0]), item.read_text()))
    return sorted(found)
