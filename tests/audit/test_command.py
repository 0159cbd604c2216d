"""``hubmirror audit`` reads the records back: by repo, by age or time, by caller."""

from __future__ import annotations

import json
import time

from hubmirror.index.audit import AuditRecord
from hubmirror.mirror.access.audit import as_dict
from hubmirror.mirror.access.callers import token_fingerprint
from hubmirror.runtime import open_store
from hubmirror.settings import Settings
from tests.audit.support import audited
from tests.fakehub import GATED_MODEL, OWNER_TOKEN, TINY_BERT
from tests.support.commands import hubmirror
from tests.support.http import get


def _json(data_dir, *args: str) -> list[dict]:
    proc = hubmirror("audit", "--data", str(data_dir), "--json", *args, check=True)
    return [json.loads(line) for line in proc.stdout.splitlines()]


def _write(data_dir, *records: AuditRecord) -> None:
    with open_store(Settings(data=str(data_dir))) as store:
        store.index.audit.add(list(records))


def _record(at: float, repo: str, **fields) -> AuditRecord:
    values = {"address": "10.0.0.1", "identity": None, "fingerprint": "anonymous"} | fields
    return AuditRecord(at, "download", repo_type="model", repo=repo, **values)


def test_audit_repo_json_returns_the_downloads_of_that_repo(mirror):
    get(mirror.url + f"/{TINY_BERT}/resolve/main/config.json")
    get(mirror.url + f"/{TINY_BERT}/resolve/main/vocab.txt")
    get(
        mirror.url + f"/{GATED_MODEL}/resolve/main/config.json",
        headers={"Authorization": f"Bearer {OWNER_TOKEN}"},
    )
    records = audited(mirror)
    lines = _json(mirror.data_dir, "--repo", TINY_BERT)
    assert [(line["repo"], line["path"]) for line in lines] == [
        (TINY_BERT, "config.json"),
        (TINY_BERT, "vocab.txt"),
    ]
    assert lines == [as_dict(r) for r in records[:2]]
    gated = _json(mirror.data_dir, "--repo", f"model:{GATED_MODEL}")
    assert [line["fingerprint"] for line in gated] == [token_fingerprint(f"Bearer {OWNER_TOKEN}")]


def test_audit_since_an_age_or_a_time_leaves_older_records_out(tmp_path):
    now = time.time()
    _write(
        tmp_path,
        _record(now - 3 * 86400, "acme/old"),
        _record(now - 3 * 3600, "acme/earlier"),
        _record(now - 600, "acme/recent"),
    )
    assert [r["repo"] for r in _json(tmp_path, "--since", "1h")] == ["acme/recent"]
    assert [r["repo"] for r in _json(tmp_path, "--since", "2d")] == ["acme/earlier", "acme/recent"]
    moment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now - 4 * 3600))
    assert [r["repo"] for r in _json(tmp_path, "--since", moment)] == [
        "acme/earlier",
        "acme/recent",
    ]
    assert len(_json(tmp_path)) == 3


def test_audit_identity_and_limit_select_callers_and_the_newest(tmp_path):
    now = time.time()
    _write(
        tmp_path,
        _record(now - 30, "acme/a", identity="alice"),
        _record(now - 20, "acme/b", fingerprint="f00d"),
        _record(now - 10, "acme/c", address="10.9.9.9"),
        _record(now - 5, "acme/d", identity="alice"),
    )
    assert [r["repo"] for r in _json(tmp_path, "--identity", "alice")] == ["acme/a", "acme/d"]
    assert [r["repo"] for r in _json(tmp_path, "--identity", "f00d")] == ["acme/b"]
    assert [r["repo"] for r in _json(tmp_path, "--identity", "10.9.9.9")] == ["acme/c"]
    assert [r["repo"] for r in _json(tmp_path, "--limit", "2")] == ["acme/c", "acme/d"]


def test_audit_prints_a_table_of_who_took_what(tmp_path):
    now = time.time()
    _write(
        tmp_path,
        _record(
            now,
            "acme/bert",
            identity="alice",
            revision="main",
            path="model.safetensors",
            bytes=3 * 1024 * 1024,
            status=200,
            cache="HIT",
        ),
    )
    proc = hubmirror("audit", "--data", str(tmp_path), check=True)
    header, row = proc.stdout.splitlines()
    assert header.split() == [
        "TIME",
        "EVENT",
        "STATUS",
        "CACHE",
        "BYTES",
        "ADDRESS",
        "WHO",
        "REPO",
        "FILE",
        "NOTE",
    ]
    assert row.split()[2:] == [
        "download",
        "200",
        "HIT",
        "3.0",
        "MiB",
        "10.0.0.1",
        "alice",
        "acme/bert",
        "main/model.safetensors",
        "-",
    ]


def test_audit_refuses_a_since_it_cannot_read(tmp_path):
    proc = hubmirror("audit", "--data", str(tmp_path), "--since", "yesterday")
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1].startswith("hubmirror: --since: 'yesterday'")
