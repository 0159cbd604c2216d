"""What a test looks at in a data directory: every index row and every stored blob file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.support.commands import hubmirror


def index_rows(data_dir: Path) -> dict[str, list[tuple]]:
    """Every row of every index table, sorted: equal dicts mean an unchanged index."""
    path = data_dir / "index.sqlite"
    if not path.exists():
        return {}
    conn = sqlite3.connect(path)
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}
    finally:
        conn.close()


def row_count(data_dir: Path) -> int:
    return sum(len(rows) for rows in index_rows(data_dir).values())


def stored_blobs(data_dir: Path) -> list[str]:
    """Names of the blob files in the store."""
    return sorted(p.name for p in (data_dir / "blobs").rglob("*") if p.is_file())


def staging_folders(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "tmp").glob("*.staging"))


def export(data_dir: Path, *args: str, check: bool = True):
    return hubmirror("export", *args, "--data", str(data_dir), check=check)


def import_(data_dir: Path, bundle: Path, check: bool = True):
    return hubmirror("import", str(bundle), "--data", str(data_dir), check=check)


def sync(data_dir: Path, upstream: str, *args: str):
    return hubmirror("sync", *args, "--data", str(data_dir), "--upstream", upstream, check=True)


def one_line_error(proc) -> str:
    """The single ``hubmirror: ...`` line a refused command prints (logs aside)."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("hubmirror: ")]
    assert len(lines) == 1, proc.stderr
    return lines[0]
