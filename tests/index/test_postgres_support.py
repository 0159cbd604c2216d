"""The throwaway PostgreSQL of the tests: says what to install when it cannot start."""

from __future__ import annotations

import pytest

from tests.support import postgres


def test_missing_binaries_say_what_to_install(monkeypatch):
    monkeypatch.setattr(postgres.glob, "glob", lambda pattern: [])
    with pytest.raises(postgres.PostgresMissing, match=r"apt-get install postgresql"):
        postgres.server_bin()


def test_database_urls_keep_the_server_and_name_the_database():
    url = postgres.database_url("postgresql://postgres@127.0.0.1:5433/postgres", "t1")
    assert url == "postgresql://postgres@127.0.0.1:5433/t1"
