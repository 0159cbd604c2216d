"""Typed queries over the index: every SQL statement of the mirror lives here.

Functions take and return ``hubmirror.types`` values, never rows, so the mirror
layer reads like the Hub's vocabulary (revision → commit → entry → blob).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from hubmirror.index.access import AccessRecords
from hubmirror.index.audit import AuditRecords
from hubmirror.index.database import SqlDatabase, upsert_sql
from hubmirror.index.leases import FillLeases, cluster_secret
from hubmirror.index.records import ApiAnswer, KnownCommit, RepoRecord, Snapshot, StoredBlob
from hubmirror.index.sessions import SessionRecords
from hubmirror.index.traffic import TrafficRecords
from hubmirror.index.trims import trim_oldest
from hubmirror.index.xet import XetRecords
from hubmirror.types import FileEntry, RepoId, RepoType

# portable INSERT OR REPLACE (SQLite and PostgreSQL): the key's row replaced whole
_RK = ("repo_type", "repo_id")
_PUT_COMMIT = upsert_sql(
    "revisions", (*_RK, "revision", "commit_sha", "fetched_at"), (*_RK, "revision")
)
_PUT_ENTRY = upsert_sql(
    "entries",
    (*_RK, "commit_sha", "path", "size", "etag", "lfs", "sha256"),
    (*_RK, "commit_sha", "path"),
)
_PUT_MISSING = upsert_sql(
    "missing_entries", (*_RK, "commit_sha", "path", "fetched_at"), (*_RK, "commit_sha", "path")
)
_PUT_ANSWER = upsert_sql(
    "api_answers", ("key", *_RK, "status", "body", "link_next", "fetched_at"), ("key",)
)
_PUT_SNAPSHOT = upsert_sql(
    "snapshots", (*_RK, "commit_sha", "info", "tree", "fetched_at"), (*_RK, "commit_sha")
)
_PUT_VISIBILITY = upsert_sql("repos", (*_RK, "visibility", "checked_at"), _RK)


class Index:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        self.access = AccessRecords(db)
        self.audit = AuditRecords(db)
        self.leases = FillLeases(db)
        self.xet = XetRecords(db)  # Xet hashes of stored blobs
        self.sessions = SessionRecords(db)  # dashboard admin sessions ended by a logout
        self.traffic = TrafficRecords(db)  # bytes and requests per hour, per repo and day

    def cluster_secret(self) -> str:
        """The node-to-node signing secret every node sharing this index reads alike."""
        return cluster_secret(self.db)

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Group writes so readers (in any process) see all of them or none."""
        with self.db.transaction():
            yield

    # revisions -------------------------------------------------------------
    def get_commit(self, repo: RepoId, revision: str) -> KnownCommit | None:
        row = self.db.execute(
            "SELECT commit_sha, fetched_at FROM revisions"
            " WHERE repo_type=? AND repo_id=? AND revision=?",
            (repo.repo_type.value, repo.canonical, revision),
        ).fetchone()
        return KnownCommit(*row) if row else None

    def put_commit(self, repo: RepoId, revision: str, commit: str, now: float) -> None:
        self.db.execute(
            _PUT_COMMIT,
            (repo.repo_type.value, repo.canonical, revision, commit, now),
        )

    def names_commit(self, repo: RepoId, commit: str) -> bool:
        """Whether upstream named ``commit`` as a commit of ``repo``: a revision resolved
        to it, or a file listing is held at it."""
        key = (repo.repo_type.value, repo.canonical, commit)
        return bool(
            self.db.execute(
                "SELECT 1 FROM revisions WHERE repo_type=? AND repo_id=? AND commit_sha=? LIMIT 1",
                key,
            ).fetchone()
            or self.db.execute(
                "SELECT 1 FROM entries WHERE repo_type=? AND repo_id=? AND commit_sha=? LIMIT 1",
                key,
            ).fetchone()
        )

    # entries ---------------------------------------------------------------
    def get_entry(self, repo: RepoId, commit: str, path: str) -> FileEntry | None:
        row = self.db.execute(
            "SELECT path, size, etag, lfs, sha256 FROM entries"
            " WHERE repo_type=? AND repo_id=? AND commit_sha=? AND path=?",
            (repo.repo_type.value, repo.canonical, commit, path),
        ).fetchone()
        return _entry(row) if row else None

    def put_entries(self, repo: RepoId, commit: str, entries: list[FileEntry]) -> None:
        kind, name = repo.repo_type.value, repo.canonical
        rows = [(kind, name, commit, e.path, e.size, e.etag, int(e.lfs), e.sha256) for e in entries]
        self.db.executemany(_PUT_ENTRY, rows)

    def is_missing(self, repo: RepoId, commit: str, path: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM missing_entries"
            " WHERE repo_type=? AND repo_id=? AND commit_sha=? AND path=?",
            (repo.repo_type.value, repo.canonical, commit, path),
        ).fetchone()
        return row is not None

    def missing_at(self, repo: RepoId, commit: str) -> list[str]:
        """Paths upstream confirmed absent at ``commit``."""
        rows = self.db.execute(
            "SELECT path FROM missing_entries WHERE repo_type=? AND repo_id=? AND commit_sha=?"
            " ORDER BY path",
            (repo.repo_type.value, repo.canonical, commit),
        ).fetchall()
        return [path for (path,) in rows]

    def put_missing(self, repo: RepoId, commit: str, path: str, now: float) -> None:
        self.db.execute(
            _PUT_MISSING,
            (repo.repo_type.value, repo.canonical, commit, path, now),
        )

    # blobs -----------------------------------------------------------------
    def blob_for(self, entry: FileEntry) -> StoredBlob | None:
        """The stored blob holding ``entry``'s bytes: by sha256 for LFS, by git sha1 otherwise."""
        if entry.sha256:
            sql, key = "SELECT sha256, git_sha1, size FROM blobs WHERE sha256=?", entry.sha256
        else:
            sql, key = "SELECT sha256, git_sha1, size FROM blobs WHERE git_sha1=?", entry.etag
        row = self.db.execute(sql, (key,)).fetchone()
        return StoredBlob(*row) if row else None

    def blob_by_id(self, blob_id: str) -> StoredBlob | None:
        """The stored blob named by a sha256 (64 hex) or a git blob sha1 (40 hex)."""
        column = "sha256" if len(blob_id) == 64 else "git_sha1"
        row = self.db.execute(
            f"SELECT sha256, git_sha1, size FROM blobs WHERE {column}=?", (blob_id,)
        ).fetchone()
        return StoredBlob(*row) if row else None

    def put_blob(self, blob: StoredBlob, now: float) -> None:
        self.db.execute(
            "INSERT INTO blobs VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(sha256) DO UPDATE SET last_access=excluded.last_access",
            (blob.sha256, blob.git_sha1, blob.size, now, now),
        )

    def touch_blobs(self, touched: dict[str, float]) -> None:
        self.db.executemany(
            "UPDATE blobs SET last_access=? WHERE sha256=?",
            [(when, sha256) for sha256, when in touched.items()],
        )

    def forget_blob(self, sha256: str) -> None:
        self.db.execute("DELETE FROM blobs WHERE sha256=?", (sha256,))

    # API answers -----------------------------------------------------------
    def get_answer(self, key: str) -> ApiAnswer | None:
        row = self.db.execute(
            "SELECT status, body, link_next, fetched_at FROM api_answers WHERE key=?", (key,)
        ).fetchone()
        return ApiAnswer(*row) if row else None

    def put_answer(self, key: str, repo: RepoId, answer: ApiAnswer) -> None:
        self.db.execute(
            _PUT_ANSWER,
            (
                key,
                repo.repo_type.value,
                repo.canonical,
                answer.status,
                answer.body,
                answer.link_next,
                answer.fetched_at,
            ),
        )

    def trim(self, kind: str, keep: int) -> int:
        """Forget the oldest rows of ``kind`` (``trims.KINDS``: answers, misses) beyond ``keep``."""
        return trim_oldest(self.db, kind, keep)

    # snapshots -------------------------------------------------------------
    def get_snapshot(self, repo: RepoId, commit: str) -> Snapshot | None:
        row = self.db.execute(
            "SELECT commit_sha, info, tree, fetched_at FROM snapshots"
            " WHERE repo_type=? AND repo_id=? AND commit_sha=?",
            (repo.repo_type.value, repo.canonical, commit),
        ).fetchone()
        return Snapshot(row[0], bytes(row[1]), bytes(row[2]), row[3]) if row else None

    def put_snapshot(self, repo: RepoId, snapshot: Snapshot) -> None:
        self.db.execute(
            _PUT_SNAPSHOT,
            (
                repo.repo_type.value,
                repo.canonical,
                snapshot.commit,
                snapshot.info,
                snapshot.tree,
                snapshot.fetched_at,
            ),
        )

    # whole repos (bundles) -------------------------------------------------
    def known_repos(self) -> list[RepoId]:
        """Every repo any revision, entry or snapshot is recorded for."""
        rows = self.db.execute(
            "SELECT repo_type, repo_id FROM revisions UNION SELECT repo_type, repo_id FROM entries"
            " UNION SELECT repo_type, repo_id FROM snapshots ORDER BY 1, 2"
        ).fetchall()
        return [RepoId(RepoType(t), name) for t, name in rows]

    def entries_at(self, repo: RepoId, commit: str) -> list[FileEntry]:
        rows = self.db.execute(
            "SELECT path, size, etag, lfs, sha256 FROM entries"
            " WHERE repo_type=? AND repo_id=? AND commit_sha=? ORDER BY path",
            (repo.repo_type.value, repo.canonical, commit),
        ).fetchall()
        return [_entry(row) for row in rows]

    def record_of(self, repo: RepoId) -> RepoRecord:
        """All rows of one repo; what a bundle carries."""
        key = (repo.repo_type.value, repo.canonical)
        where = " WHERE repo_type=? AND repo_id=?"
        revisions = dict(
            self.db.execute("SELECT revision, commit_sha FROM revisions" + where, key).fetchall()
        )
        snapshots = [
            Snapshot(c, bytes(i), bytes(t), f)
            for c, i, t, f in self.db.execute(
                "SELECT commit_sha, info, tree, fetched_at FROM snapshots" + where, key
            ).fetchall()
        ]
        commits = sorted(
            {c for (c,) in self.db.execute("SELECT commit_sha FROM entries" + where, key)}
        )
        missing: dict[str, list[str]] = {}
        for commit, path in self.db.execute(
            "SELECT commit_sha, path FROM missing_entries" + where + " ORDER BY 1, 2", key
        ):
            missing.setdefault(commit, []).append(path)
        answers = {
            k: ApiAnswer(s, bytes(b), ln, f)
            for k, s, b, ln, f in self.db.execute(
                "SELECT key, status, body, link_next, fetched_at FROM api_answers" + where, key
            ).fetchall()
        }
        return RepoRecord(
            visibility=self.get_visibility(repo),
            revisions=revisions,
            snapshots=snapshots,
            entries={c: self.entries_at(repo, c) for c in commits},
            missing=missing,
            answers=answers,
        )

    def put_record(self, repo: RepoId, record: RepoRecord, now: float) -> None:
        """Write a carried repo; call inside ``atomic()`` so it appears all at once."""
        if record.visibility is not None:
            self.put_visibility(repo, record.visibility[0], now)
        for revision, commit in record.revisions.items():
            self.put_commit(repo, revision, commit, now)
        for snapshot in record.snapshots:
            self.put_snapshot(repo, snapshot)
        for commit, entries in record.entries.items():
            self.put_entries(repo, commit, entries)
        for commit, paths in record.missing.items():
            for path in paths:
                self.put_missing(repo, commit, path, now)
        for key, answer in record.answers.items():
            self.put_answer(key, repo, answer)

    # repo visibility -------------------------------------------------------
    def get_visibility(self, repo: RepoId) -> tuple[str, float] | None:
        row = self.db.execute(
            "SELECT visibility, checked_at FROM repos WHERE repo_type=? AND repo_id=?",
            (repo.repo_type.value, repo.canonical),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def put_visibility(self, repo: RepoId, visibility: str, now: float) -> None:
        self.db.execute(
            _PUT_VISIBILITY,
            (repo.repo_type.value, repo.canonical, visibility, now),
        )

    # mirror tokens ---------------------------------------------------------
    def put_mirror_token(self, token: MirrorToken) -> bool:
        """Record a new token; ``False`` if its name (revoked or not) or hash is taken."""
        cursor = self.db.execute(
            "INSERT INTO mirror_tokens VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                token.name,
                token.token_hash,
                "\n".join(token.repos),
                token.created_at,
                token.expires_at,
                token.revoked_at,
                token.last_used,
            ),
        )
        return cursor.rowcount == 1

    def mirror_token(self, token_hash: str) -> MirrorToken | None:
        row = self.db.execute(
            f"SELECT {_TOKEN_COLUMNS} FROM mirror_tokens WHERE token_hash=?", (token_hash,)
        ).fetchone()
        return _mirror_token(row) if row else None

    def mirror_tokens(self) -> list[MirrorToken]:
        rows = self.db.execute(
            f"SELECT {_TOKEN_COLUMNS} FROM mirror_tokens ORDER BY created_at, name"
        ).fetchall()
        return [_mirror_token(row) for row in rows]

    def revoke_mirror_token(self, name: str, now: float) -> bool:
        """``False`` when no token of that name is active."""
        cursor = self.db.execute(
            "UPDATE mirror_tokens SET revoked_at=? WHERE name=? AND revoked_at IS NULL",
            (now, name),
        )
        return cursor.rowcount == 1

    def mirror_token_used(self, name: str, now: float) -> None:
        self.db.execute("UPDATE mirror_tokens SET last_used=? WHERE name=?", (now, name))

    # metrics ---------------------------------------------------------------
    def blob_totals(self) -> tuple[int, int]:
        """How many blobs the store holds and their bytes, for ``/metrics``."""
        count, size = self.db.execute(  # PostgreSQL's sum of BIGINT is NUMERIC: cast back
            "SELECT count(*), CAST(COALESCE(sum(size), 0) AS BIGINT) FROM blobs"
        ).fetchone()
        return count, size

    # cache management ------------------------------------------------------
    def blob_usage(self) -> list[BlobUsage]:
        """Every stored blob with its size and last read, for eviction plans and reports."""
        rows = self.db.execute("SELECT sha256, git_sha1, size, last_access FROM blobs").fetchall()
        return [BlobUsage(*row) for row in rows]

    def blob_refs(self) -> list[BlobRef]:
        """Which repo commit lists which stored blob: LFS entries by sha256, others by git sha1."""
        rows = self.db.execute(
            "SELECT e.repo_type, e.repo_id, e.commit_sha, b.sha256 FROM entries e"
            " JOIN blobs b ON b.sha256 = e.sha256 WHERE e.sha256 IS NOT NULL"
            " UNION SELECT e.repo_type, e.repo_id, e.commit_sha, b.sha256 FROM entries e"
            " JOIN blobs b ON b.git_sha1 = e.etag WHERE e.sha256 IS NULL"
        ).fetchall()
        return [BlobRef(RepoId(RepoType(t), name), c, sha) for t, name, c, sha in rows]

    def all_revisions(self) -> list[tuple[RepoId, str, str]]:
        """(repo, revision, commit) for every revision the mirror resolved."""
        rows = self.db.execute(
            "SELECT repo_type, repo_id, revision, commit_sha FROM revisions ORDER BY 1, 2, 3"
        ).fetchall()
        return [(RepoId(RepoType(t), name), rev, c) for t, name, rev, c in rows]

    def entry_counts(self) -> dict[RepoId, int]:
        """Files listed per repo (one per commit and path)."""
        rows = self.db.execute(
            "SELECT repo_type, repo_id, count(*) FROM entries GROUP BY 1, 2"
        ).fetchall()
        return {RepoId(RepoType(t), name): n for t, name, n in rows}

    def delete_blobs(self, shas: list[str]) -> None:
        """Forget blobs; their entries stay (metadata), so the next request refills them."""
        self.db.executemany("DELETE FROM blobs WHERE sha256=?", [(sha,) for sha in shas])

    def delete_repo(self, repo: RepoId) -> None:
        """Every row of one repo but its blobs (shared by content; the caller decides)."""
        key = (repo.repo_type.value, repo.canonical)
        for table in ("revisions", "entries", "missing_entries", "snapshots", "api_answers"):
            self.db.execute(f"DELETE FROM {table} WHERE repo_type=? AND repo_id=?", key)

    def delete_commit(self, repo: RepoId, commit: str) -> None:
        """One commit of a repo: the revisions naming it, its entries, misses and snapshot."""
        key = (repo.repo_type.value, repo.canonical, commit)
        for table in ("revisions", "entries", "missing_entries", "snapshots"):
            self.db.execute(
                f"DELETE FROM {table} WHERE repo_type=? AND repo_id=? AND commit_sha=?", key
            )

    # dashboard: the repo browser ---------------------------------------------
    def revisions_of(self, repo: RepoId) -> dict[str, str]:
        """Revision -> commit, as last resolved, for one repo."""
        rows = self.db.execute(
            "SELECT revision, commit_sha FROM revisions WHERE repo_type=? AND repo_id=?"
            " ORDER BY revision",
            (repo.repo_type.value, repo.canonical),
        ).fetchall()
        return dict(rows)

    def commits_of(self, repo: RepoId) -> list[str]:
        """Commits of one repo whose file listing the index holds."""
        rows = self.db.execute(
            "SELECT DISTINCT commit_sha FROM entries WHERE repo_type=? AND repo_id=?"
            " ORDER BY commit_sha",
            (repo.repo_type.value, repo.canonical),
        ).fetchall()
        return [commit for (commit,) in rows]

    def cached_files(self, repo: RepoId, commit: str) -> list[CachedFile]:
        """Files of one commit, each with whether its blob is stored and when it was read."""
        rows = self.db.execute(
            "SELECT e.path, e.size, count(b.sha256) > 0, max(b.last_access) FROM entries e"
            " LEFT JOIN blobs b ON (e.sha256 IS NOT NULL AND b.sha256 = e.sha256)"
            " OR (e.sha256 IS NULL AND b.git_sha1 = e.etag)"
            " WHERE e.repo_type=? AND e.repo_id=? AND e.commit_sha=? GROUP BY e.path, e.size"
            " ORDER BY e.path",
            (repo.repo_type.value, repo.canonical, commit),
        ).fetchall()
        return [CachedFile(path, size, bool(stored), seen) for path, size, stored, seen in rows]


@dataclass(frozen=True, slots=True)
class MirrorToken:
    """A mirror access token as stored: its sha256, never the token itself."""

    name: str
    token_hash: str
    repos: tuple[str, ...]  # repo globs it may read; () = any
    created_at: float
    expires_at: float | None = None
    revoked_at: float | None = None
    last_used: float | None = None


_TOKEN_COLUMNS = "name, token_hash, repos, created_at, expires_at, revoked_at, last_used"


def _mirror_token(row: tuple) -> MirrorToken:
    repos = tuple(row[2].split("\n")) if row[2] else ()
    return MirrorToken(row[0], row[1], repos, *row[3:])


def _entry(row: tuple) -> FileEntry:
    return FileEntry(path=row[0], size=row[1], etag=row[2], lfs=bool(row[3]), sha256=row[4])


# cache management ------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BlobUsage:
    """A stored blob as eviction sees it: how big, and when it was last read."""

    sha256: str
    git_sha1: str
    size: int
    last_access: float


@dataclass(frozen=True, slots=True)
class BlobRef:
    """One repo commit listing one stored blob."""

    repo: RepoId
    commit: str
    sha256: str


# dashboard -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CachedFile:
    """One file of a commit as the repo browser shows it."""

    path: str
    size: int
    stored: bool
    last_access: float | None
