"""/api/ routes over real HTTP: rewritten bodies, absolute Link URLs, caching, errors."""

from __future__ import annotations

import json

from tests.support.http import get, request

MODEL = "acme/tiny-bert"
MANY = "acme/many-files"


def _next_link(answer) -> str | None:
    link = answer.header("Link") or ""
    return link[1 : link.index(">")] if link.startswith("<") else None


def test_tree_pages_link_to_the_mirror_and_list_every_file(mirror, fakehub):
    target = f"{mirror.url}/api/models/{MANY}/tree/main?recursive=true&expand=false"
    paths, pages = [], 0
    while target:
        answer = get(target)
        assert answer.status == 200
        paths += [e["path"] for e in json.loads(answer.body) if e["type"] == "file"]
        target = _next_link(answer)
        assert target is None or target.startswith(mirror.url + "/api/models/")
        pages += 1
    assert pages >= 2
    assert len(paths) == len(set(paths)) > 1000


def test_link_honours_forwarded_proto_and_host(mirror):
    answer = get(
        f"{mirror.url}/api/models/{MANY}/tree/main?recursive=true&expand=false",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hf.example.org"},
    )
    assert _next_link(answer).startswith("https://hf.example.org/api/models/")


def test_public_url_with_prefix_routes_and_links(make_mirror):
    server = make_mirror(public_url="https://proxy.example/hf")
    answer = get(f"{server.url}/hf/api/models/{MANY}/tree/main?recursive=true&expand=false")
    assert answer.status == 200
    assert _next_link(answer).startswith("https://proxy.example/hf/api/models/")
    assert get(f"{server.url}/hf/{MODEL}/resolve/main/config.json").status == 200


def test_xet_hash_is_removed_from_tree_and_paths_info(make_mirror, fakehub):
    mirror = make_mirror(xet_serve=False)
    tree = get(f"{mirror.url}/api/models/{MODEL}/tree/main?recursive=true&expand=false")
    assert b"xetHash" not in tree.body
    lfs_entries = [e for e in json.loads(tree.body) if e.get("lfs")]
    assert lfs_entries and all(len(e["lfs"]["oid"]) == 64 for e in lfs_entries)
    info = request(
        "POST",
        f"{mirror.url}/api/models/{MODEL}/paths-info/main",
        body=b"paths=model.safetensors&paths=nope&expand=false",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    entries = json.loads(info.body)
    assert [e["path"] for e in entries] == ["model.safetensors"]
    assert "xetHash" not in entries[0]


def test_xet_read_token_route_is_not_served(make_mirror, fakehub):
    mirror = make_mirror(xet_serve=False)
    sha = fakehub.commit_of("model", MODEL, "main")
    answer = get(f"{mirror.url}/api/models/{MODEL}/xet-read-token/{sha}")
    assert answer.status == 404
    assert not [k for k in answer.headers if k.lower().startswith("x-xet")]


def test_revision_info_agrees_with_resolve_commit(mirror, fakehub):
    info = json.loads(get(f"{mirror.url}/api/models/{MODEL}/revision/main").body)
    resolve = get(f"{mirror.url}/{MODEL}/resolve/main/config.json")
    assert (
        info["sha"] == resolve.header("X-Repo-Commit") == fakehub.commit_of("model", MODEL, "main")
    )


def test_fresh_api_answer_is_served_without_asking_upstream(mirror, fakehub):
    target = f"{mirror.url}/api/models/{MODEL}/refs"
    first = get(target)
    fakehub.clear_log()
    second = get(target)
    assert second.body == first.body
    assert fakehub.log == []


def test_tree_at_a_commit_answers_later_heads_locally(mirror, fakehub):
    # as snapshot_download does: the commit is learnt from the mirror first (a sha never
    # named by upstream could be a branch spelled in hex, and is not kept for ever)
    sha = json.loads(get(f"{mirror.url}/api/models/{MODEL}/revision/main").body)["sha"]
    get(f"{mirror.url}/api/models/{MODEL}/tree/{sha}?recursive=true&expand=false")
    fakehub.clear_log()
    answer = request("HEAD", f"{mirror.url}/{MODEL}/resolve/{sha}/tokenizer.json")
    assert answer.status == 200
    assert [e for e in fakehub.log if e.method == "HEAD"] == []


def test_missing_folder_is_entry_not_found(mirror):
    answer = get(f"{mirror.url}/api/models/{MODEL}/tree/main/additional_chat_templates")
    assert (answer.status, answer.header("X-Error-Code")) == (404, "EntryNotFound")


def test_spaces_are_served_like_models(mirror, fakehub):
    answer = get(f"{mirror.url}/api/spaces/acme/tiny-space/revision/main")
    assert answer.status == 200
    assert json.loads(answer.body)["id"] == "acme/tiny-space"
    file = get(f"{mirror.url}/spaces/acme/tiny-space/resolve/main/app.py")
    assert file.body == fakehub.file_bytes("space", "acme/tiny-space", "main", "app.py")


def test_housekeeping_routes_answer_locally(mirror, fakehub):
    answer = get(f"{mirror.url}/api/agent-harnesses")
    assert json.loads(answer.body) == {"standardEnvVars": [], "harnesses": {}}
    assert request("HEAD", f"{mirror.url}/api/telemetry/gradio/launched").status == 200
    assert fakehub.log == []


def test_hanging_upstream_is_a_504_after_the_timeout(make_mirror, fakehub):
    server = make_mirror(upstream_timeout=1.0)
    fakehub.faults.hang = True
    answer = get(f"{server.url}/api/models/{MODEL}/revision/main", timeout=20)
    assert answer.status == 504
    assert answer.header("X-Error-Code") == "UpstreamTimeout"


def test_metrics_show_cache_hits_and_what_each_upstream_sent(mirror, fakehub):
    target = f"{mirror.url}/{MODEL}/resolve/main/model.safetensors"
    size = len(get(target).body)
    get(target)
    text = get(f"{mirror.url}/metrics").body.decode()
    upstream = fakehub.url.split("://", 1)[1]
    assert f'hubmirror_served_bytes_total{{cache="HIT"}} {size}' in text
    assert f'hubmirror_upstream_bytes_total{{upstream="{upstream}"}} {size}' in text
    assert f'hubmirror_upstream_breaker_state{{upstream="{upstream}"}} 0' in text
    assert 'hubmirror_requests_total{route="resolve",status="200",cache="MISS"} 1' in text


def test_health_and_readiness_answer_locally(mirror, fakehub):
    assert json.loads(get(f"{mirror.url}/healthz").body) == {"ok": True, "problems": []}
    ready = get(f"{mirror.url}/readyz")
    assert (ready.status, json.loads(ready.body)["ok"]) == (200, True)
    assert fakehub.log == []


def test_readiness_fails_when_the_index_is_unusable(make_mirror):
    server = make_mirror()
    server.call(lambda: server.mirror.index.db.close())
    ready = get(f"{server.url}/readyz")
    assert ready.status == 503
    assert json.loads(ready.body)["problems"][0].startswith("index:")
    assert get(f"{server.url}/healthz").status == 200
