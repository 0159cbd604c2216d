"""The index database: SQLite in WAL mode, or PostgreSQL shared by several nodes.

``open_database(url, default_path)`` picks the backend; both speak the same portable
SQL (``?`` placeholders, ``INSERT ... ON CONFLICT``) and run the same numbered
migrations (``migrations/NNNN_*.sql``). This module is the only one that opens
sqlite3; ``postgres.py`` is the only one that imports psycopg.

Queries are a few microseconds each (SQLite) or one loopback round trip
(PostgreSQL), so they run on the event loop's thread without a pool: the hot path
answers from memory and asks the index only on a miss. One connection per
``Database`` object; the audit log writes through a second one from its own thread.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from hubmirror.errors import InvalidInput


class Rows(Protocol):
    """What a query returns on both backends: its rows, and how many it changed."""

    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class SqlDatabase(Protocol):
    """The interface of both backends that ``Index`` and its siblings use."""

    shared: bool  # True when other nodes read and write the same rows (PostgreSQL)

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def transaction(self) -> AbstractContextManager[None]: ...

    def now(self) -> float: ...

    def close(self) -> None: ...


def open_database(url: str | None, default_path: Path) -> SqlDatabase:
    """SQLite at ``default_path`` when ``url`` is empty, PostgreSQL for a postgresql:// URL."""
    if not url:
        return Database(default_path)
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from hubmirror.index.postgres import PostgresDatabase  # psycopg only when asked for
        except ImportError as exc:
            raise InvalidInput(
                f"a postgresql index needs psycopg ({exc}): pip install 'hubmirror[postgres]'"
            ) from None
        return PostgresDatabase(url)
    raise InvalidInput("index must be empty (DATA/index.sqlite) or a postgresql:// URL")


def upsert_sql(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """``INSERT ... ON CONFLICT (key) DO UPDATE`` of every other column: portable REPLACE."""
    names = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    updates = ", ".join(f"{c}=excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({names}) VALUES ({marks})"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


class Database:
    """SQLite in WAL mode: one writer, readers unblocked; the single-node default."""

    shared = False

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=5000")
        migrate(self.conn)

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def close(self) -> None:
        self.conn.close()

    def now(self) -> float:
        """One machine, one clock."""
        return time.time()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.transaction():  # one commit for all rows, not one per row
            self.conn.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside become visible together, or not at all.

        Inside another transaction it joins that one (the outer one commits).
        """
        if self.conn.in_transaction:
            yield
            return
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
    for number, sql in migration_scripts():
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


def migration_scripts() -> list[tuple[int, str]]:
    """(number, SQL) of every migration, oldest first: the same files for both backends."""
    folder = resources.files("hubmirror.index") / "migrations"
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".sql"):
            found.append((int(item.name.split("_", 1)[0]), item.read_text()))
    return sorted(found)
