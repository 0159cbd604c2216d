"""``audit = false`` records nothing; ``audit_file`` puts the JSON lines elsewhere."""

from __future__ import annotations

from tests.audit.support import audit_lines, audited
from tests.fakehub import GATED_MODEL, TINY_BERT
from tests.support.http import get


def test_audit_false_records_nothing(make_mirror):
    mirror = make_mirror(audit=False)
    assert get(mirror.url + f"/{TINY_BERT}/resolve/main/config.json").status == 200
    assert get(mirror.url + f"/{GATED_MODEL}/resolve/main/config.json").status == 401
    assert audited(mirror) == []
    assert not (mirror.data_dir / "audit.jsonl").exists()


def test_audit_file_setting_chooses_where_the_lines_go(make_mirror, tmp_path):
    target = tmp_path / "logs" / "hubmirror-audit.jsonl"
    mirror = make_mirror(audit_file=str(target))
    assert get(mirror.url + f"/{TINY_BERT}/resolve/main/config.json").status == 200
    (record,) = audited(mirror)
    assert [line["path"] for line in audit_lines(target)] == ["config.json"]
    assert record.path == "config.json"
    assert not (mirror.data_dir / "audit.jsonl").exists()
