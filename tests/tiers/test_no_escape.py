"""Nothing sends a client around the site: no redirect to the central or the CDN, no Xet
signal (the site strips it: ``xet_serve=False``), no pagination link to another tier. Every
answer is the site's own.
"""

from __future__ import annotations

import json

import pytest

from tests.support.clients import (
    GATED,
    MANY_FILES,
    MODEL,
    OWNER_TOKEN,
    TINY_BERT,
    TINY_CSV,
    run_client,
)
from tests.support.http import get, head, request

pytestmark = pytest.mark.timeout(60)

OWNER = {"Authorization": f"Bearer {OWNER_TOKEN}"}


def file_paths(commit: str) -> list[str]:
    return [
        f"/{TINY_BERT}/resolve/{rev}/{name}"
        for rev in ("main", "v1.0", commit, "refs%2Fpr%2F1")
        for name in ("config.json", "model.safetensors")
    ] + [f"/datasets/{TINY_CSV}/resolve/main/data/train.csv"]


API_PATHS = [
    f"/api/models/{TINY_BERT}",
    f"/api/models/{TINY_BERT}?blobs=true&expand=xetEnabled",
    f"/api/models/{TINY_BERT}/revision/main",
    f"/api/models/{TINY_BERT}/tree/main?recursive=true&expand=true",
    f"/api/models/{MANY_FILES}/tree/main?recursive=true&expand=false",
    f"/api/datasets/{TINY_CSV}/tree/main/data",
]


def assert_no_escape(answer, *, other_hosts: list[str]) -> None:
    names = {name.lower() for name in answer.headers}
    location = answer.header("Location")
    assert location is None, location
    assert not [n for n in names if n.startswith("x-xet")], names
    link = answer.header("Link") or ""
    assert "xet" not in link.lower()
    assert not [h for h in other_hosts if h in link], link
    assert answer.header("Content-Encoding") in (None, "identity")


def test_file_answers_through_two_tiers_are_inline_without_xet(strip_chain, fakehub):
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    others = [strip_chain.central.url, fakehub.url, fakehub.cdn_url]
    for path in file_paths(commit) + [f"/{GATED}/resolve/main/model.safetensors"]:
        for method in (head, get):
            answer = method(strip_chain.url(path), headers=OWNER)
            assert answer.status == 200, (path, answer.status)
            assert answer.header("X-Repo-Commit")
            assert_no_escape(answer, other_hosts=others)


def test_api_answers_carry_no_xet_and_page_links_point_at_the_site(strip_chain, fakehub):
    others = [strip_chain.central.url, fakehub.url, fakehub.cdn_url]
    for path in API_PATHS:
        answer = get(strip_chain.url(path))
        assert answer.status == 200, path
        assert_no_escape(answer, other_hosts=others)
        assert b"xet" not in answer.body.lower(), path
    paged = get(strip_chain.url(API_PATHS[4]))
    next_url = paged.header("Link").split(";")[0].strip("<> ")
    assert next_url.startswith(strip_chain.site.url + "/api/models/")
    rest = get(next_url)
    assert rest.status == 200
    assert len(json.loads(paged.body)) + len(json.loads(rest.body)) > 1000


def test_paths_info_through_two_tiers_has_no_xet_hash(strip_chain):
    answer = request(
        "POST",
        strip_chain.url(f"/api/models/{TINY_BERT}/paths-info/main"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=b"paths=model.safetensors&paths=config.json&expand=true",
    )
    assert answer.status == 200
    assert {e["path"] for e in json.loads(answer.body)} == {"model.safetensors", "config.json"}
    assert b"xet" not in answer.body.lower()


def test_clients_with_hf_xet_never_reach_xet_through_two_tiers(strip_chain, fakehub, home):
    """hf_xet is installed and the Hub advertises Xet: the client still downloads plain HTTP."""
    assert fakehub.xet
    code = f"""
    from huggingface_hub import hf_hub_download
    emit(hf_hub_download({TINY_BERT!r}, "model.safetensors"))
    """
    run_client(code, strip_chain.site.url, home)

    assert [e.target for e in fakehub.log if "xet" in e.target.lower()] == []
    assert [p for p in (home / "xet").rglob("*") if p.is_file()] == []
