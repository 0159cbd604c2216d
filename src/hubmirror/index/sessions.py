"""Dashboard admin sessions ended before their time, by a logout.

A session cookie is signed and carries its own expiry (``dashboard/auth.py``), so a
live session needs no row here; a logout writes one, and every worker and node that
shares the index refuses that cookie from then on. A row is kept until the session
would have expired anyway.
"""

from __future__ import annotations

from hubmirror.index.database import SqlDatabase, upsert_sql

_PUT_ENDED = upsert_sql("ended_sessions", ("session_id", "expires_at"), ("session_id",))


class SessionRecords:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def end(self, session_id: str, expires_at: float, now: float) -> None:
        """Record the logout, and forget sessions that have expired since theirs."""
        self.db.execute("DELETE FROM ended_sessions WHERE expires_at < ?", (now,))
        self.db.execute(_PUT_ENDED, (session_id, expires_at))

    def ended(self, session_id: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM ended_sessions WHERE session_id=?", (session_id,)
        ).fetchone()
        return row is not None
