"""Fill leases: one node at a time fills a blob, across every node sharing the index.

A lease is a row naming the node filling a blob and until when; the filler renews
it while bytes arrive (a heartbeat), and a lease nobody renewed expires so another
node can take the fill over. Every time comes from ``db.now()``: the database's
clock, so nodes whose own clocks disagree still agree on expiry. Taking a lease is
one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` statement, atomic on both
backends: of several nodes racing for a free key, exactly one changes the row.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from hubmirror.index.database import SqlDatabase

_COLUMNS = "blob_key, node, address, expires_at"


@dataclass(frozen=True, slots=True)
class Lease:
    """Who fills ``key``, where other nodes reach that node, and until when it holds."""

    key: str
    node: str
    address: str
    expires_at: float


class FillLeases:
    """The ``fill_leases`` table."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def acquire(self, key: str, node: str, address: str, ttl: float) -> bool:
        """Take the lease when free, expired, or already ours (renewing it); atomic
        across nodes: the row changes only for one of several racing nodes."""
        now = self.db.now()
        cursor = self.db.execute(
            f"INSERT INTO fill_leases ({_COLUMNS}) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (blob_key) DO UPDATE SET node=excluded.node,"
            " address=excluded.address, expires_at=excluded.expires_at"
            " WHERE fill_leases.expires_at <= ? OR fill_leases.node = excluded.node",
            (key, node, address, now + ttl, now),
        )
        return cursor.rowcount == 1

    def renew(self, key: str, node: str, ttl: float) -> bool:
        """Heartbeat; ``False`` when the lease is no longer ours (another node took it
        over after it expired, or it was released). Expired but untaken is still ours."""
        cursor = self.db.execute(
            "UPDATE fill_leases SET expires_at=? WHERE blob_key=? AND node=?",
            (self.db.now() + ttl, key, node),
        )
        return cursor.rowcount == 1

    def release(self, key: str, node: str) -> None:
        """Give the lease up (fill done or failed); a lease another node holds stays."""
        self.db.execute("DELETE FROM fill_leases WHERE blob_key=? AND node=?", (key, node))

    def holder(self, key: str) -> Lease | None:
        """The unexpired holder, or None."""
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM fill_leases WHERE blob_key=? AND expires_at > ?",
            (key, self.db.now()),
        ).fetchone()
        return Lease(*row) if row else None


def cluster_secret(db: SqlDatabase, name: str = "node_secret") -> str:
    """A secret every node shares (``node_secret`` signs node-to-node requests): created
    once by whichever node asks first (a losing racer's candidate is discarded)."""
    db.execute(
        "INSERT INTO cluster_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        (name, secrets.token_hex(32)),
    )
    row = db.execute("SELECT value FROM cluster_settings WHERE name=?", (name,))
    return row.fetchone()[0]
