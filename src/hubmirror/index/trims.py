"""Tables anyone can grow, kept to a number of rows: the oldest rows go first.

A stranger asking for made-up paths makes the mirror remember each miss (and the
audit log records each refusal). Those memories are worth having — they spare
upstream a question — but not without end: past ``keep`` rows the oldest are
forgotten, and a forgotten miss is only asked upstream again.
"""

from __future__ import annotations

from hubmirror.index.database import SqlDatabase

# what is kept to a number of rows -> (table, rows that count); each is indexed by age
KINDS = {
    "api_answers": ("api_answers", "1=1"),  # every stored answer
    "missing_answers": ("api_answers", "status=404"),  # remembered 404s (missing folders)
    "missing_entries": ("missing_entries", "1=1"),  # remembered missing files
}


def trim_oldest(db: SqlDatabase, kind: str, keep: int) -> int:
    """Delete the oldest rows of ``kind`` beyond ``keep``; return how many went.

    Rows as old as the cut-off row go with it, so a few more than the excess may go.
    """
    table, rows = KINDS[kind]
    (count,) = db.execute(f"SELECT count(*) FROM {table} WHERE {rows}").fetchone()
    excess = count - keep
    if excess <= 0:
        return 0
    (cutoff,) = db.execute(
        f"SELECT fetched_at FROM {table} WHERE {rows} ORDER BY fetched_at LIMIT 1 OFFSET ?",
        (excess - 1,),
    ).fetchone()
    return db.execute(f"DELETE FROM {table} WHERE {rows} AND fetched_at <= ?", (cutoff,)).rowcount


def trim_audit(db: SqlDatabase, keep: int) -> int:
    """Keep the newest ``keep`` audit records: ids grow with every insert, so this is
    a range delete on the primary key, cheap enough for every batch."""
    return db.execute(
        "DELETE FROM audit WHERE id <= (SELECT max(id) FROM audit) - ?", (keep,)
    ).rowcount
