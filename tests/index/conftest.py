"""Index tests run on both backends: SQLite in the test's folder, and PostgreSQL."""

from __future__ import annotations

import pytest

from hubmirror.index.database import open_database
from hubmirror.index.queries import Index


@pytest.fixture(params=["sqlite", "postgresql"])
def index_backend(request, tmp_path):
    """``connect()`` opens a new connection to one fresh index database of the backend."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    opened = []

    def connect():
        database = open_database(url, tmp_path / "index.sqlite")
        opened.append(database)
        return database

    yield connect
    for database in opened:
        database.close()


@pytest.fixture
def index_db(index_backend):
    """A migrated, empty index database: SQLite or PostgreSQL."""
    return index_backend()


@pytest.fixture
def index(index_db):
    return Index(index_db)
