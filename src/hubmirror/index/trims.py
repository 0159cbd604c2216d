"""Tables anyone can grow, kept to a number of rows: the oldest rows go first.

A stranger asking for made-up paths makes the mirror remember each miss (and the
audit log records each refusal). Those memories are worth having — they spare
upstream a question — but not without end: past ``keep`` rows the oldest are
forgotten, and a forgotten miss is only asked upstream again.
"""

from __future__ import annotations

from hubmirror.index.database import SqlDatabase

# table -> the column that says how old a row is (an indexed column, see migrations)
AGE_COLUMNS = {"api_answers": "fetched_at", "missing_entries": "fetched_at"}


def trim_oldest(db: SqlDatabase, table: str, keep: int) -> int:
    """Delete the oldest rows of ``table`` beyond ``keep``; return how many went.

    Rows as old as the cut-off row go with it, so a few more than the excess may go.
    """
    age = AGE_COLUMNS[table]
    (count,) = db.execute(f"SELECT count(*) FROM {table}").fetchone()
    excess = count - keep
    if excess <= 0:
        return 0
    (cutoff,) = db.execute(
        f"SELECT {age} FROM {table} ORDER BY {age} LIMIT 1 OFFSET ?", (excess - 1,)
    ).fetchone()
    return db.execute(f"DELETE FROM {table} WHERE {age} <= ?", (cutoff,)).rowcount


def trim_audit(db: SqlDatabase, keep: int) -> int:
    """Keep the newest ``keep`` audit records: ids grow with every insert, so this is
    a range delete on the primary key, cheap enough for every batch."""
    return db.execute(
        "DELETE FROM audit WHERE id <= (SELECT max(id) FROM audit) - ?", (keep,)
    ).rowcount
