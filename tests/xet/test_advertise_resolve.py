"""With xet_serve, resolve answers and listings advertise the Xet hash the mirror computed.

Never upstream's: the fake hub advertises stand-in hashes, the mirror its own, from the
bytes it verified and stored, and only once it has them.
"""

from __future__ import annotations

import json

from tests.fakehub.defaults import TINY_BERT, TINY_CSV
from tests.support.http import get, head, request
from tests.xet.advertise_support import head_once_hashed, xet_hash_of_bytes, xet_links

WEIGHTS = "model.safetensors"  # LFS
CONFIG = "config.json"  # a regular (git) file


def resolve_url(mirror, repo: str, path: str, prefix: str = "") -> str:
    return f"{mirror.url}/{prefix}{repo}/resolve/main/{path}"


def paths_info(mirror, plural: str, repo: str, paths: list[str]) -> list[dict]:
    body = "&".join(f"paths={p}" for p in paths).encode()
    answer = request(
        "POST",
        f"{mirror.url}/api/{plural}/{repo}/paths-info/main",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=body,
    )
    assert answer.status == 200
    return json.loads(answer.body)


def tree(mirror, repo: str) -> dict[str, dict]:
    answer = get(f"{mirror.url}/api/models/{repo}/tree/main?recursive=true")
    assert answer.status == 200
    return {item["path"]: item for item in json.loads(answer.body)}


def test_a_filled_lfs_file_is_advertised_with_the_xet_hash_of_its_bytes(make_mirror, fakehub):
    mirror = make_mirror(xet_serve=True)
    data = fakehub.file_bytes("model", TINY_BERT, "main", WEIGHTS)
    commit = fakehub.commit_of("model", TINY_BERT, "main")
    url = resolve_url(mirror, TINY_BERT, WEIGHTS)
    assert get(url).body == data

    answer = head_once_hashed(url)
    expected = xet_hash_of_bytes(data)
    assert answer.header("X-Xet-Hash") == expected
    assert answer.header("Link") == xet_links(mirror.url, "models", TINY_BERT, commit, expected)
    assert answer.header("X-Repo-Commit") == commit
    full = get(url)
    assert full.body == data
    assert full.header("X-Xet-Hash") == expected
    assert full.header("Link") == answer.header("Link")


def test_a_regular_git_file_is_served_plain_as_on_the_hub(make_mirror, fakehub):
    mirror = make_mirror(xet_serve=True)
    config, weights = (
        resolve_url(mirror, TINY_BERT, CONFIG),
        resolve_url(mirror, TINY_BERT, WEIGHTS),
    )
    assert get(config).status == 200 and get(weights).status == 200

    assert head_once_hashed(weights).header("X-Xet-Hash")  # hashing runs: LFS files get it
    answer = head(config)

    assert answer.status == 200 and answer.header("X-Xet-Hash") is None
    assert "xet" not in (answer.header("Link") or "")


def test_a_host_the_links_cannot_name_gets_the_file_plain(make_mirror, fakehub):
    mirror = make_mirror(xet_serve=True)
    url = resolve_url(mirror, TINY_BERT, WEIGHTS)
    assert head_once_hashed(url).header("X-Xet-Hash")

    answer = get(url, headers={"X-Forwarded-Host": "evil.example/path"})

    assert answer.status == 200 and answer.header("X-Xet-Hash") is None
    assert answer.body == fakehub.file_bytes("model", TINY_BERT, "main", WEIGHTS)


def test_a_dataset_file_links_to_the_dataset_token_route(make_mirror, fakehub):
    path = "data/big.parquet"
    fakehub.add_large_file("dataset", TINY_CSV, path, 200_000, seed=4)
    mirror = make_mirror(xet_serve=True)
    data = fakehub.file_bytes("dataset", TINY_CSV, "main", path)
    commit = fakehub.commit_of("dataset", TINY_CSV, "main")
    url = resolve_url(mirror, TINY_CSV, path, prefix="datasets/")
    assert get(url).body == data

    answer = head_once_hashed(url)
    expected = xet_hash_of_bytes(data)
    assert answer.header("X-Xet-Hash") == expected
    assert answer.header("Link") == xet_links(mirror.url, "datasets", TINY_CSV, commit, expected)


def test_tree_and_paths_info_carry_the_hash_of_stored_lfs_files_only(make_mirror, fakehub):
    mirror = make_mirror(xet_serve=True)
    for path in (WEIGHTS, CONFIG):
        get(resolve_url(mirror, TINY_BERT, path))
    head_once_hashed(resolve_url(mirror, TINY_BERT, WEIGHTS))
    weights = xet_hash_of_bytes(fakehub.file_bytes("model", TINY_BERT, "main", WEIGHTS))

    items = tree(mirror, TINY_BERT)
    assert items[WEIGHTS]["xetHash"] == weights
    assert "xetHash" not in items[CONFIG]  # stored, but a git file: plain, as on the Hub
    assert "xetHash" not in items["vocab.txt"]  # not stored: upstream's hash is never passed
    info = {i["path"]: i for i in paths_info(mirror, "models", TINY_BERT, [WEIGHTS, "vocab.txt"])}
    assert info[WEIGHTS]["xetHash"] == weights
    assert "xetHash" not in info["vocab.txt"]


def test_an_empty_file_never_gets_a_xet_hash(make_mirror, fakehub):
    fakehub.move_branch("model", TINY_BERT, "main", {"empty.bin": b""})
    mirror = make_mirror(xet_serve=True)
    url = resolve_url(mirror, TINY_BERT, "empty.bin")
    assert get(url).body == b""
    get(resolve_url(mirror, TINY_BERT, WEIGHTS))
    head_once_hashed(resolve_url(mirror, TINY_BERT, WEIGHTS))  # hashing has had its chance

    answer = head(url)
    assert answer.status == 200
    assert answer.header("X-Xet-Hash") is None
    assert answer.header("Link") is None
    assert "xetHash" not in tree(mirror, TINY_BERT)["empty.bin"]
    assert mirror.call(lambda: mirror.mirror.xet.running) == set()


def test_a_blob_stored_without_a_hash_is_hashed_when_first_resolved(make_mirror, fakehub):
    mirror = make_mirror(xet_serve=True)
    mirror.call(setattr, mirror.mirror.xet, "enabled", False)  # stored as before xet_serve
    url = resolve_url(mirror, TINY_BERT, WEIGHTS)
    data = get(url).body
    mirror.call(setattr, mirror.mirror.xet, "enabled", True)
    sha256 = fakehub.file_sha256("model", TINY_BERT, "main", WEIGHTS)
    assert mirror.call(mirror.mirror.index.xet.xet_hash_of, sha256) is None

    assert head_once_hashed(url).header("X-Xet-Hash") == xet_hash_of_bytes(data)
    assert mirror.call(mirror.mirror.index.xet.xet_hash_of, sha256) == xet_hash_of_bytes(data)


def test_with_xet_serve_off_nothing_is_advertised(make_mirror, fakehub):
    mirror = make_mirror(xet_serve=False)
    url = resolve_url(mirror, TINY_BERT, WEIGHTS)
    get(url)
    get(resolve_url(mirror, TINY_BERT, CONFIG))

    for answer in (head(url), get(url)):
        assert answer.header("X-Xet-Hash") is None
        assert answer.header("Link") is None
    assert all("xetHash" not in item for item in tree(mirror, TINY_BERT).values())
    sha256 = fakehub.file_sha256("model", TINY_BERT, "main", WEIGHTS)
    assert mirror.call(mirror.mirror.index.xet.xet_hash_of, sha256) is None
    token = get(f"{mirror.url}/api/models/{TINY_BERT}/xet-read-token/main")
    assert (token.status, token.header("X-Error-Code")) == (404, "NotFound")
    assert token.header("X-Xet-Access-Token") is None
