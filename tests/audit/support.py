"""Reading what a mirror audited: from its index and from its JSON-lines file."""

from __future__ import annotations

import json
from pathlib import Path

from hubmirror.index.audit import AuditRecord
from tests.support.mirror import MirrorThread


def audited(server: MirrorThread, repo=None) -> list[AuditRecord]:
    """Every record of ``server`` so far, from its index (queued ones are written first)."""

    def read() -> list[AuditRecord]:
        server.mirror.audit.flush()
        server.mirror.audit.wait()
        return server.mirror.index.audit.find(repo, None, None, 10_000)

    return server.call(read)


def audit_lines(path: Path) -> list[dict]:
    """The JSON lines of an audit file; each must be one whole JSON object."""
    return [json.loads(line) for line in path.read_text().splitlines()]


def index_bytes(data_dir: Path) -> bytes:
    """The index as stored on disk: the database and its write-ahead log."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.glob("index.sqlite*")))
