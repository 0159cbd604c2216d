"""Migration 0010: rows stored under any spelling of a repo id move to its lower-case id.

Run on both backends against rows written by the schema before it, as an index upgraded
from an earlier release holds them.
"""

from __future__ import annotations

import sqlite3

import pytest

from hubmirror.hub.routes import RepoApi
from hubmirror.index.database import migration_scripts, open_database
from hubmirror.index.postgres import split_statements
from hubmirror.index.queries import Index
from hubmirror.mirror.answers.api import answer_key
from hubmirror.types import RepoId, RepoType, Revision

CANONICAL_IDS = 10  # the migration under test
TABLES = (
    "repos",
    "repo_approvals",
    "access_grants",
    "revisions",
    "entries",
    "missing_entries",
    "snapshots",
    "api_answers",
    "audit",
)
BERT = RepoId(RepoType.MODEL, "Acme/BERT")
OLD_ROWS = [
    # visibility: spellings that disagree leave it unknown; every answer is asked again
    "INSERT INTO repos VALUES ('model', 'Acme/Bert', 'public', 100)",
    "INSERT INTO repos VALUES ('model', 'acme/bert', 'restricted', 50)",
    "INSERT INTO repos VALUES ('model', 'Acme/Open', 'public', 100)",
    # a deny under one spelling wins over an approval under another; requests add up
    "INSERT INTO repo_approvals VALUES ('model', 'Acme/X', 'denied', 1, 'a', 2, 5, 'cli:ops')",
    "INSERT INTO repo_approvals VALUES ('model', 'acme/x', 'approved', 1, 'b', 1, 9, 'cli:dev')",
    "INSERT INTO repo_approvals VALUES ('model', 'ACME/Y', 'pending', 1, 'c', 2, NULL, NULL)",
    "INSERT INTO repo_approvals VALUES ('model', 'Acme/y', 'approved', 1, 'd', 3, 7, 'cli:ops')",
    "INSERT INTO access_grants VALUES ('fp', 'model', 'Acme/Bert', 10)",
    "INSERT INTO access_grants VALUES ('fp', 'model', 'acme/bert', 20)",
    f"INSERT INTO revisions VALUES ('model', 'Acme/Bert', 'main', '{'c' * 40}', 5)",
    f"INSERT INTO entries VALUES ('model', 'Acme/Bert', '{'c' * 40}', 'Config.json', 3,"
    " 'e', 0, NULL)",
    f"INSERT INTO missing_entries VALUES ('model', 'ACME/bert', '{'c' * 40}', 'Gone.txt', 5)",
    "INSERT INTO api_answers VALUES ('/api/models/Acme/Bert/revision/main?blobs=True', 'model',"
    " 'Acme/Bert', 200, 'x', NULL, 5)",
    "INSERT INTO api_answers VALUES ('/api/datasets/Acme/Data/tree/main/Sub%2FDir', 'dataset',"
    " 'Acme/Data', 200, 'y', NULL, 5)",
    "INSERT INTO audit (at, event, address, fingerprint, repo_type, repo_id, bytes)"
    " VALUES (1, 'download', '10.0.0.1', 'anonymous', 'model', 'ACME/Bert', 3)",
]


def _old_sqlite(path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    for number, sql in migration_scripts():
        if number < CANONICAL_IDS:
            conn.executescript(f"BEGIN;\n{sql}\n;PRAGMA user_version = {number};\nCOMMIT;")
    for row in OLD_ROWS:
        conn.execute(row.replace("'x'", "X'78'").replace("'y'", "X'79'"))
    conn.close()


def _old_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for number, sql in migration_scripts():
            if number < CANONICAL_IDS:
                for statement in split_statements(sql):
                    conn.execute(statement)
        conn.execute("CREATE TABLE hubmirror_schema (version BIGINT NOT NULL)")
        conn.execute(f"INSERT INTO hubmirror_schema (version) VALUES ({CANONICAL_IDS - 1})")
        for row in OLD_ROWS:
            conn.execute(row.replace("'x'", "'\\x78'::bytea").replace("'y'", "'\\x79'::bytea"))


@pytest.fixture(params=["sqlite", "postgresql"])
def upgraded(request, tmp_path):
    """An index written before migration 0010, opened (and so migrated) by this release."""
    path = tmp_path / "index.sqlite"
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        _old_postgres(url)
    else:
        _old_sqlite(path)
    database = open_database(url, path)
    yield database
    database.close()


def test_no_row_keeps_a_spelling_other_than_the_lower_case_id(upgraded):
    for table in TABLES:
        sql = f"SELECT count(*) FROM {table} WHERE repo_id <> lower(repo_id)"
        assert upgraded.execute(sql).fetchone()[0] == 0, table


def test_visibility_moves_and_is_asked_again_and_disagreement_is_unknown(upgraded):
    index = Index(upgraded)
    assert index.get_visibility(BERT) == ("unknown", 0)
    assert index.get_visibility(RepoId(RepoType.MODEL, "acme/open")) == ("public", 0)


def test_deny_wins_over_approval_and_requests_add_up(upgraded):
    records = Index(upgraded).access
    denied = records.approval(RepoId(RepoType.MODEL, "acme/X"))
    approved = records.approval(RepoId(RepoType.MODEL, "acme/Y"))
    assert (denied.state, denied.decided_by, denied.requests) == ("denied", "cli:ops", 3)
    assert (approved.state, approved.decided_by, approved.requests) == ("approved", "cli:ops", 5)
    assert len(records.approvals()) == 2


def test_cached_answers_are_found_under_every_spelling(upgraded):
    index = Index(upgraded)
    commit = "c" * 40
    assert index.get_commit(BERT, "main").commit == commit
    assert index.get_entry(BERT, commit, "Config.json").size == 3
    assert index.is_missing(BERT, commit, "Gone.txt")
    assert index.access.has_grant("fp", BERT)
    info = answer_key(RepoApi(BERT, "revision", Revision("main")), [("blobs", "True")], None)
    assert bytes(index.get_answer(info).body) == b"x"
    tree = upgraded.execute("SELECT key, body FROM api_answers WHERE repo_id = 'acme/data'")
    assert [(k, bytes(b)) for k, b in tree] == [
        ("/api/datasets/acme/data/tree/main/Sub%2FDir", b"y")
    ]
    assert [r.repo for r in index.audit.find(BERT, None, None, 10)] == ["acme/bert"]
