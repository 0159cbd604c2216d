"""Choosing the backend, and a PostgreSQL connection that drops and comes back."""

from __future__ import annotations

import threading

import psycopg
import pytest

from hubmirror.errors import IndexUnavailable, InvalidInput
from hubmirror.index.database import Database, open_database
from hubmirror.index.postgres import PostgresDatabase


def _drop_connection(database: PostgresDatabase, postgres_url: str) -> int:
    """What a server restart does to a client: its backend ends under it."""
    pid = database.execute("SELECT pg_backend_pid()").fetchone()[0]
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))  # waits for its end
    return pid


def test_no_url_opens_sqlite_in_wal_mode(tmp_path):
    database = open_database(None, tmp_path / "index.sqlite")
    assert isinstance(database, Database) and not database.shared
    assert database.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert (tmp_path / "index.sqlite").exists()
    database.close()


def test_a_postgres_url_opens_the_shared_backend(postgres_url, tmp_path):
    url = postgres_url.replace("postgresql://", "postgres://", 1)
    database = open_database(url, tmp_path / "index.sqlite")
    assert isinstance(database, PostgresDatabase) and database.shared
    assert not (tmp_path / "index.sqlite").exists()
    database.close()


def test_another_scheme_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="postgresql://"):
        open_database("mysql://db/index", tmp_path / "index.sqlite")


def test_an_unreachable_server_is_index_unavailable(tmp_path):
    with pytest.raises(IndexUnavailable, match="cannot connect"):
        open_database("postgresql://postgres@127.0.0.1:1/none", tmp_path / "index.sqlite")


def test_a_dropped_connection_reconnects_for_the_next_statement(postgres_url, tmp_path):
    database = open_database(postgres_url, tmp_path / "unused.sqlite")
    database.execute("INSERT INTO cluster_settings (name, value) VALUES (?, ?)", ("k", "v"))
    old = _drop_connection(database, postgres_url)
    assert database.execute("SELECT value FROM cluster_settings").fetchall() == [("v",)]
    assert database.execute("SELECT pg_backend_pid()").fetchone()[0] != old
    database.close()


def test_a_connection_dropped_inside_a_transaction_fails_it_clearly(postgres_url, tmp_path):
    database = open_database(postgres_url, tmp_path / "unused.sqlite")
    with pytest.raises(IndexUnavailable, match="transaction"), database.transaction():
        database.execute("INSERT INTO cluster_settings (name, value) VALUES (?, ?)", ("k", "v"))
        _drop_connection(database, postgres_url)
        database.execute("INSERT INTO cluster_settings (name, value) VALUES (?, ?)", ("j", "w"))
    assert database.execute("SELECT count(*) FROM cluster_settings").fetchone()[0] == 0
    database.close()


def test_threads_share_one_connection_safely(postgres_url, tmp_path):
    database = open_database(postgres_url, tmp_path / "unused.sqlite")
    failures = []

    def work(n: int) -> None:
        try:
            for i in range(25):
                with database.transaction():
                    database.execute(
                        "INSERT INTO cluster_settings (name, value) VALUES (?, ?)",
                        (f"{n}-{i}", "x"),
                    )
                    database.executemany(
                        "UPDATE cluster_settings SET value=? WHERE name=?", [("y", f"{n}-{i}")]
                    )
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert database.execute("SELECT count(*), min(value) FROM cluster_settings").fetchone() == (
        100,
        "y",
    )
    database.close()
