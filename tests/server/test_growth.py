"""Made-up requests cannot grow the index without bound: keys, misses, repos, audit."""

from __future__ import annotations

import json
import secrets
from urllib.parse import quote

import pytest

from tests.audit.support import audit_lines, audited, index_bytes
from tests.support.http import get, request

pytestmark = pytest.mark.timeout(120)
MODEL = "acme/tiny-bert"
TREE = f"/api/models/{MODEL}/tree/main"


def rows(server, table: str) -> int:
    return server.call(
        lambda: server.mirror.index.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    )


def upstream_requests(fakehub, contains: str) -> list[str]:
    return [e.target for e in fakehub.log if contains in e.target]


def test_unknown_query_parameters_share_one_stored_answer_and_one_upstream_request(mirror, fakehub):
    bodies = {
        get(f"{mirror.url}{TREE}?recursive=true&expand=false&pad={secrets.token_hex(512)}").body
        for _ in range(20)
    }
    assert len(bodies) == 1 and json.loads(bodies.pop())  # one real listing for all
    assert upstream_requests(fakehub, TREE) == [f"{TREE}?expand=false&recursive=true"]
    assert rows(mirror, "api_answers") == 1


def test_spellings_and_order_of_the_same_question_share_one_answer(mirror, fakehub):
    info = f"{mirror.url}/api/models/{MODEL}"
    first = get(f"{info}?expand=siblings&expand=sha")
    again = get(f"{info}?expand=sha&expand=siblings&expand=sha")
    tree = get(f"{mirror.url}{TREE}?recursive=True&expand=FALSE")
    same_tree = get(f"{mirror.url}{TREE}?expand=false&recursive=true")
    assert first.status == tree.status == 200
    assert again.body == first.body and same_tree.body == tree.body
    assert set(json.loads(first.body)) >= {"sha", "siblings"}
    assert len(upstream_requests(fakehub, "?")) == 2  # besides the anonymous visibility check


def test_a_token_in_the_query_is_neither_stored_nor_sent_upstream(mirror, fakehub):
    secret = "hf_" + secrets.token_hex(16)
    answer = get(f"{mirror.url}{TREE}?recursive=false&expand=false&token={secret}")
    assert answer.status == 200
    mirror.call(lambda: mirror.mirror.audit.flush() or mirror.mirror.audit.wait())
    assert secret.encode() not in index_bytes(mirror.data_dir)
    assert not [e for e in fakehub.log if secret in e.target]


def test_paths_info_forms_differing_in_order_or_unknown_fields_share_one_answer(mirror, fakehub):
    target = f"{mirror.url}/api/models/{MODEL}/paths-info/main"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    bodies = [
        request("POST", target, form, b"paths=config.json&paths=tokenizer.json&expand=false").body,
        request("POST", target, form, b"expand=false&paths=tokenizer.json&paths=config.json").body,
        request("POST", target, form, b"paths=tokenizer.json&paths=config.json&x=1&expand=0").body,
    ]
    assert bodies[0] == bodies[1] == bodies[2]
    assert {e["path"] for e in json.loads(bodies[0])} == {"config.json", "tokenizer.json"}
    assert len(upstream_requests(fakehub, "/paths-info/")) == 1


def test_remembered_misses_are_kept_to_their_limits_newest_first(make_mirror, fakehub):
    server = make_mirror(max_missing_files=20, max_api_answers=20)
    names = [secrets.token_hex(64) for _ in range(60)]
    for name in names:
        assert get(f"{server.url}/{MODEL}/resolve/main/{name}").status == 404
        assert get(f"{server.url}{TREE}/{name}?recursive=false").status == 404
    assert rows(server, "missing_entries") <= 22
    assert rows(server, "api_answers") <= 22
    fakehub.clear_log()
    assert get(f"{server.url}/{MODEL}/resolve/main/{names[-1]}").status == 404
    assert get(f"{server.url}{TREE}/{names[-1]}?recursive=false").status == 404
    assert fakehub.log == []  # the newest misses are still remembered


def test_misses_at_long_made_up_paths_are_not_remembered(mirror, fakehub):
    name = secrets.token_hex(200)  # 400 characters: no client probes such a name
    for _ in range(2):
        assert get(f"{mirror.url}/{MODEL}/resolve/main/{name}").status == 404
        assert get(f"{mirror.url}{TREE}/{name}?recursive=false").status == 404
    assert rows(mirror, "missing_entries") == 0
    assert rows(mirror, "api_answers") == 0
    assert len(upstream_requests(fakehub, name)) == 4  # asked each time, as without a mirror


def test_repos_upstream_refuses_to_describe_leave_no_rows(mirror, fakehub):
    for n in range(20):
        name = quote(f"stranger-{secrets.token_hex(4)}/repo-{n}")
        assert get(f"{mirror.url}/api/models/{name}/revision/main").status in (401, 404)
    assert get(f"{mirror.url}/api/models/{MODEL}/revision/main").status == 200
    assert rows(mirror, "repos") == 1


def test_audit_records_cut_long_made_up_paths(mirror):
    name = secrets.token_hex(1024)
    assert get(f"{mirror.url}/{MODEL}/resolve/main/{name}").status == 404
    (record,) = audited(mirror)
    assert record.path == name[:512] + "…"


def test_the_index_keeps_the_newest_audit_records_and_the_file_all(make_mirror):
    server = make_mirror(audit_max_rows=10)
    for n in range(30):
        get(f"{server.url}/api/models/stranger/repo-{n}/revision/main")
    records = audited(server)
    assert len(records) == 10
    assert records[-1].repo == "stranger/repo-29"
    assert len(audit_lines(server.data_dir / "audit.jsonl")) >= 30


def test_long_made_up_paths_do_not_enter_the_route_cache(mirror):
    from hubmirror.server import app

    before = app._route.cache_info().currsize
    for _ in range(20):
        assert get(f"{mirror.url}/{MODEL}/resolve/main/{secrets.token_hex(512)}").status == 404
    assert app._route.cache_info().currsize == before
