"""Approval requests and decisions, and tokens upstream confirmed for restricted repos.

The SQL of ``mirror/access/admission.py`` (which repos are served) and of the outage
policy in ``mirror/access/policy.py`` (who may still get gated content).
"""

from __future__ import annotations

from dataclasses import dataclass

from hubmirror.index.database import SqlDatabase, upsert_sql
from hubmirror.types import RepoId, RepoType


@dataclass(frozen=True, slots=True)
class Approval:
    """An operator's decision on a repo, or a request still waiting for one."""

    repo: RepoId
    state: str  # pending | approved | denied
    requested_at: float | None
    requested_by: str | None
    requests: int
    decided_at: float | None
    decided_by: str | None


_APPROVAL_COLUMNS = (
    "repo_type, repo_id, state, requested_at, requested_by, requests, decided_at, decided_by"
)


_PUT_GRANT = upsert_sql(
    "access_grants",
    ("fingerprint", "repo_type", "repo_id", "confirmed_at"),
    ("fingerprint", "repo_type", "repo_id"),
)


def _approval(row: tuple) -> Approval:
    return Approval(RepoId(RepoType(row[0]), row[1]), *row[2:])


class AccessRecords:
    """Approval requests and decisions, and tokens confirmed for restricted repos."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def approval(self, repo: RepoId) -> Approval | None:
        row = self.db.execute(
            f"SELECT {_APPROVAL_COLUMNS} FROM repo_approvals WHERE repo_type=? AND repo_id=?",
            (repo.repo_type.value, repo.canonical),
        ).fetchone()
        return _approval(row) if row else None

    def approvals(self, state: str | None = None) -> list[Approval]:
        sql = f"SELECT {_APPROVAL_COLUMNS} FROM repo_approvals"
        rows = self.db.execute(
            sql + (" WHERE state=?" if state else "") + " ORDER BY requested_at, repo_id",
            (state,) if state else (),
        ).fetchall()
        return [_approval(row) for row in rows]

    def pending_page(self, limit: int, offset: int) -> list[Approval]:
        """One page of the requests awaiting a decision, newest first."""
        rows = self.db.execute(
            f"SELECT {_APPROVAL_COLUMNS} FROM repo_approvals WHERE state='pending'"
            " ORDER BY requested_at DESC, repo_type, repo_id LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        return [_approval(row) for row in rows]

    def pending_count(self) -> int:
        """How many repos await a decision."""
        (count,) = self.db.execute(
            "SELECT count(*) FROM repo_approvals WHERE state='pending'"
        ).fetchone()
        return count

    def request_approval(self, repo: RepoId, who: str, now: float) -> None:
        """Count a request for a repo nobody decided on yet; the first asker is kept."""
        self.db.execute(
            "INSERT INTO repo_approvals (repo_type, repo_id, state, requested_at, requested_by,"
            " requests) VALUES (?, ?, 'pending', ?, ?, 1) ON CONFLICT(repo_type, repo_id)"
            " DO UPDATE SET requests = repo_approvals.requests + 1",
            (repo.repo_type.value, repo.canonical, now, who),
        )

    def decide(self, repo: RepoId, state: str, who: str, now: float) -> None:
        self.db.execute(
            "INSERT INTO repo_approvals (repo_type, repo_id, state, decided_at, decided_by)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(repo_type, repo_id)"
            " DO UPDATE SET state=excluded.state, decided_at=excluded.decided_at,"
            " decided_by=excluded.decided_by",
            (repo.repo_type.value, repo.canonical, state, now, who),
        )

    def put_grant(self, fingerprint: str, repo: RepoId, now: float) -> None:
        self.db.execute(
            _PUT_GRANT,
            (fingerprint, repo.repo_type.value, repo.canonical, now),
        )

    def has_grant(self, fingerprint: str, repo: RepoId) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM access_grants WHERE fingerprint=? AND repo_type=? AND repo_id=?",
            (fingerprint, repo.repo_type.value, repo.canonical),
        ).fetchone()
        return row is not None

    def granted_repos(self, fingerprint: str, since: float) -> list[RepoId]:
        """The restricted repos upstream confirmed for this token at ``since`` or later."""
        rows = self.db.execute(
            "SELECT repo_type, repo_id FROM access_grants WHERE fingerprint=? AND confirmed_at>=?",
            (fingerprint, since),
        ).fetchall()
        return [RepoId(RepoType(row[0]), row[1]) for row in rows]
