"""The fake hub speaks the Hub read API and fails on command.

Protocol details are checked here with a bare HTTP client; test_fakehub_clients.py points
the real clients at it and test_fakehub_faults.py checks the fault switches.
"""

import json
import subprocess
import time
from urllib.parse import urlsplit

import pytest

from tests.fakehub import (
    GATED_MODEL,
    MANY_FILES,
    MANY_FILES_COUNT,
    OWNER_TOKEN,
    PRIVATE_MODEL,
    TINY_BERT,
    TINY_CSV,
    TINY_PARQUET,
    USER_TOKEN,
    default_repos,
)
from tests.fakehub.defaults import PR_ONLY_FILE, TINY_BERT_LAYERS, TINY_BERT_OLD_LAYERS
from tests.fakehub.gitobjects import lfs_pointer
from tests.fakehub.wire import CONFIG, WEIGHTS, bearer, fetch
from tests.support.hashing import sha256_hex

# -- the data set --------------------------------------------------------------------------


def test_default_repos_are_deterministic():
    def fingerprint():
        return {
            (r.repo_type, r.repo_id, name): sha
            for r in default_repos()
            for table in (r.branches, r.git_tags, r.converts)
            for name, sha in table.items()
        }

    assert fingerprint() == fingerprint()


def test_blob_and_tree_oids_match_git(tmp_path, fakehub):
    commit = fakehub.repo("model", TINY_BERT).resolve("main")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for path, blob in commit.files.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(lfs_pointer(blob.sha256, blob.size) if blob.lfs else blob.read())
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    tree = subprocess.run(
        ["git", "-C", str(tmp_path), "write-tree"], capture_output=True, text=True, check=True
    )
    assert tree.stdout.strip() == commit.dir_oids[""]


def test_gated_weights_share_tiny_bert_digest(fakehub):
    digest = fakehub.file_sha256("model", TINY_BERT, "main", "model.safetensors")
    assert fakehub.file_sha256("model", GATED_MODEL, "main", "model.safetensors") == digest
    assert fakehub.file_sha256("model", PRIVATE_MODEL, "main", "model.safetensors") != digest


def test_tiny_bert_history_tag_and_pr(fakehub):
    main = fakehub.commit("model", TINY_BERT, "main")
    v1 = fakehub.commit("model", TINY_BERT, "v1.0")
    assert main.parent == v1.sha
    assert json.loads(v1.files["config.json"].read())["num_hidden_layers"] == TINY_BERT_OLD_LAYERS
    assert json.loads(main.files["config.json"].read())["num_hidden_layers"] == TINY_BERT_LAYERS
    assert PR_ONLY_FILE in fakehub.commit("model", TINY_BERT, "refs/pr/1").files
    assert PR_ONLY_FILE not in main.files


# -- resolve and the CDN -------------------------------------------------------------------


def test_regular_file_is_served_inline_with_hub_headers(fakehub):
    reply = fetch(fakehub.url + CONFIG, "HEAD")
    blob = fakehub.blob("model", TINY_BERT, "main", "config.json")
    assert reply.status == 200
    assert reply.headers["X-Repo-Commit"] == fakehub.commit_of("model", TINY_BERT, "main")
    assert reply.headers["ETag"] == f'"{blob.oid}"'
    assert reply.headers["Content-Length"] == str(blob.size)
    assert reply.headers["Accept-Ranges"] == "bytes"
    assert reply.headers["Content-Disposition"].endswith('filename="config.json";')
    assert fetch(fakehub.url + CONFIG).body == blob.read()


def test_lfs_file_redirects_to_signed_cdn_link_with_metadata(fakehub):
    reply = fetch(fakehub.url + WEIGHTS, "HEAD")
    blob = fakehub.blob("model", TINY_BERT, "main", "model.safetensors")
    assert reply.status == 302
    assert reply.headers["Location"].startswith(f"{fakehub.cdn_url}/repos/{blob.sha256}?")
    assert reply.headers["X-Linked-Etag"] == f'"{blob.sha256}"'
    assert reply.headers["X-Linked-Size"] == str(blob.size)
    assert reply.headers["X-Repo-Commit"] == fakehub.commit_of("model", TINY_BERT, "main")
    assert sha256_hex(fetch(reply.headers["Location"]).body) == blob.sha256


@pytest.mark.parametrize(
    "revision", ["refs%2Fpr%2F1", "refs/pr/1", "ca907a26f453e4dbfffd22c32d152c04f505b9c1"]
)
def test_pr_revision_forms_resolve_to_the_pr_commit(fakehub, revision):
    reply = fetch(f"{fakehub.url}/{TINY_BERT}/resolve/{revision}/{PR_ONLY_FILE}")
    assert reply.status == 200
    assert reply.headers["X-Repo-Commit"] == fakehub.commit_of("model", TINY_BERT, "refs/pr/1")


def test_tag_and_convert_branch_resolve(fakehub):
    tag = fetch(f"{fakehub.url}/{TINY_BERT}/resolve/v1.0/config.json", "HEAD")
    assert tag.headers["X-Repo-Commit"] == fakehub.commit_of("model", TINY_BERT, "v1.0")
    path = "default/train/0000.parquet"
    for revision in ("refs%2Fconvert%2Fparquet", "refs/convert/parquet"):
        reply = fetch(f"{fakehub.url}/datasets/{TINY_PARQUET}/resolve/{revision}/{path}", "HEAD")
        assert reply.status == 302


def test_missing_file_is_entry_not_found_with_commit(fakehub):
    reply = fetch(f"{fakehub.url}/{TINY_BERT}/resolve/main/missing.json", "HEAD")
    assert reply.status == 404
    assert reply.headers["X-Error-Code"] == "EntryNotFound"
    assert reply.headers["X-Repo-Commit"] == fakehub.commit_of("model", TINY_BERT, "main")


def test_bad_revision_is_revision_not_found(fakehub):
    reply = fetch(f"{fakehub.url}/{TINY_BERT}/resolve/v9/config.json")
    assert (reply.status, reply.headers["X-Error-Code"]) == (404, "RevisionNotFound")
    assert reply.json() == {"error": "Invalid rev id: v9"}


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=0-9", 0, 9), ("bytes=400-", 400, None), ("bytes=-5", -5, None)],
)
def test_range_is_answered_with_exact_206(fakehub, header, first, last):
    data = fakehub.file_bytes("model", TINY_BERT, "main", "config.json")
    reply = fetch(fakehub.url + CONFIG, headers={"Range": header})
    expected = data[first : None if last is None else last + 1]
    start = first % len(data)
    assert reply.status == 206
    assert reply.body == expected
    assert (
        reply.headers["Content-Range"] == f"bytes {start}-{start + len(expected) - 1}/{len(data)}"
    )


def test_range_past_end_is_416(fakehub):
    size = fakehub.blob("model", TINY_BERT, "main", "config.json").size
    reply = fetch(fakehub.url + CONFIG, headers={"Range": f"bytes={size}-"})
    assert reply.status == 416
    assert reply.headers["Content-Range"] == f"bytes */{size}"


def test_cdn_honours_range(fakehub):
    location = fetch(fakehub.url + WEIGHTS, "HEAD").headers["Location"]
    data = fakehub.file_bytes("model", TINY_BERT, "main", "model.safetensors")
    reply = fetch(location, headers={"Range": "bytes=8-15"})
    assert (reply.status, reply.body) == (206, data[8:16])
    assert fetch(location, headers={"Range": f"bytes={len(data)}-"}).status == 416


def test_cdn_refuses_tampered_and_expired_links(fakehub):
    digest = fakehub.file_sha256("model", TINY_BERT, "main", "model.safetensors")
    good = fakehub.signed_cdn_url(digest)
    assert fetch(good).status == 200
    assert fetch(good[:-4] + "0000").status == 403
    assert fetch(fakehub.signed_cdn_url(digest, expires=int(time.time()) - 1)).status == 403
    fakehub.cdn_ttl = -5
    assert fetch(fetch(fakehub.url + WEIGHTS, "HEAD").headers["Location"]).status == 403


def test_double_slashes_are_collapsed(fakehub):
    reply = fetch(f"{fakehub.url}//datasets/{TINY_CSV}/resolve/main/README.md", "HEAD")
    assert reply.status == 200
    assert fetch(f"{fakehub.url}//api/datasets/{TINY_CSV}").status == 200


# -- access --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("repo", "token", "status", "code"),
    [
        (GATED_MODEL, None, 401, "GatedRepo"),
        (GATED_MODEL, USER_TOKEN, 403, "GatedRepo"),
        (GATED_MODEL, OWNER_TOKEN, 200, None),
        (PRIVATE_MODEL, None, 401, "RepoNotFound"),
        (PRIVATE_MODEL, USER_TOKEN, 404, "RepoNotFound"),
        (PRIVATE_MODEL, OWNER_TOKEN, 200, None),
        ("acme/nope", None, 401, "RepoNotFound"),
        ("acme/nope", USER_TOKEN, 404, "RepoNotFound"),
    ],
)
def test_file_access_depends_on_token(fakehub, repo, token, status, code):
    for path in (f"/{repo}/resolve/main/config.json", f"/api/models/{repo}/tree/main"):
        reply = fetch(fakehub.url + path, headers=bearer(token))
        assert (reply.status, reply.headers.get("X-Error-Code")) == (status, code), path
        if code:
            assert reply.headers["X-Error-Message"] == reply.json()["error"]


def test_gated_repo_info_is_public(fakehub):
    reply = fetch(f"{fakehub.url}/api/models/{GATED_MODEL}")
    assert reply.status == 200
    assert reply.json()["gated"] == "manual"


def test_repo_ids_match_in_any_letter_case(fakehub):
    upper = "ACME/Tiny-Bert"
    config = fetch(f"{fakehub.url}/{upper}/resolve/main/config.json")
    info = fetch(f"{fakehub.url}/api/models/{upper}").json()
    private = fetch(f"{fakehub.url}/api/models/{PRIVATE_MODEL.upper()}/tree/main")
    assert config.body == fakehub.file_bytes("model", TINY_BERT, "main", "config.json")
    assert info["id"] == TINY_BERT  # the repo's own spelling, as the Hub answers
    assert (private.status, private.headers["X-Error-Code"]) == (401, "RepoNotFound")


def test_unknown_token_is_refused_without_error_code(fakehub):
    reply = fetch(fakehub.url + CONFIG, headers=bearer("hf_nobody"))
    assert reply.status == 401
    assert reply.headers["X-Error-Message"] == "Invalid credentials in Authorization header"
    assert "X-Error-Code" not in reply.headers


# -- API -----------------------------------------------------------------------------------


def collect_pages(url: str, headers=None) -> tuple[list, int]:
    rows, pages = [], 0
    while url:
        reply = fetch(url, headers=headers)
        assert reply.status == 200
        rows += reply.json()
        pages += 1
        link = reply.headers.get("Link")
        url = link.split(">")[0].lstrip("<") if link else None
    return rows, pages


def test_recursive_tree_pages_with_absolute_link_on_request_host(fakehub):
    url = f"{fakehub.url}/api/models/{MANY_FILES}/tree/main?recursive=true&expand=false"
    host = f"localhost:{urlsplit(fakehub.url).port}"
    first = fetch(url, headers={"Host": host})
    assert first.headers["Link"].startswith(f"<http://{host}/api/models/{MANY_FILES}/tree/main?")
    assert first.headers["Link"].endswith('>; rel="next"')
    rows, pages = collect_pages(url)
    files = [r["path"] for r in rows if r["type"] == "file"]
    assert pages == 2
    assert len(files) == len(set(files)) == MANY_FILES_COUNT


def test_expanded_tree_pages_hold_50_entries_with_last_commit(fakehub):
    url = f"{fakehub.url}/api/models/{MANY_FILES}/tree/main/data%2Fa?expand=true"
    first = fetch(url).json()
    assert len(first) == 50
    assert first[0]["lastCommit"]["id"] == fakehub.commit_of("model", MANY_FILES, "main")


def test_tree_lists_folders_and_lfs_entries(fakehub):
    root = fetch(f"{fakehub.url}/api/models/{TINY_BERT}/tree/main").json()
    by_path = {row["path"]: row for row in root}
    blob = fakehub.blob("model", TINY_BERT, "main", "model.safetensors")
    assert by_path["nested"]["type"] == "directory"
    assert by_path["model.safetensors"]["lfs"] == {
        "oid": blob.sha256,
        "size": blob.size,
        "pointerSize": blob.pointer_size,
    }
    for folder in ("nested%2Fdir", "nested/dir"):
        rows = fetch(f"{fakehub.url}/api/models/{TINY_BERT}/tree/main/{folder}").json()
        assert [row["path"] for row in rows] == ["nested/dir/file.txt"]


def test_tree_of_missing_folder_is_entry_not_found(fakehub):
    url = f"{fakehub.url}/api/models/{TINY_BERT}/tree/main/additional_chat_templates"
    reply = fetch(url + "?recursive=false&expand=false")
    assert (reply.status, reply.headers["X-Error-Code"]) == (404, "EntryNotFound")


def test_paths_info_leaves_out_unknown_paths(fakehub):
    reply = fetch(
        f"{fakehub.url}/api/models/{TINY_BERT}/paths-info/main",
        "POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body="paths=config.json&paths=nope&paths=nested&expand=false",
    )
    assert [row["path"] for row in reply.json()] == ["config.json", "nested"]


def test_repo_info_with_blobs_and_expand(fakehub):
    base = f"{fakehub.url}/api/models/{TINY_BERT}"
    info = fetch(base + "/revision/v1.0?blobs=true").json()
    assert info["sha"] == fakehub.commit_of("model", TINY_BERT, "v1.0")
    weights = next(s for s in info["siblings"] if s["rfilename"] == "model.safetensors")
    assert set(weights) == {"rfilename", "size", "blobId", "lfs"}
    assert set(weights["lfs"]) == {"sha256", "size", "pointerSize"}
    expanded = fetch(base + "?expand=sha&expand=siblings").json()
    assert set(expanded) == {"_id", "id", "sha", "siblings"}
    assert fetch(base + "?securityStatus=true").status == 200


def test_refs_and_commits(fakehub):
    base = f"{fakehub.url}/api/datasets/{TINY_PARQUET}"
    refs = fetch(base + "/refs").json()
    assert set(refs) == {"branches", "converts", "tags"}
    assert refs["converts"][0]["ref"] == "refs/convert/parquet"
    prs = fetch(f"{fakehub.url}/api/models/{TINY_BERT}/refs?include_prs=1").json()["pullRequests"]
    assert prs[0]["targetCommit"] == fakehub.commit_of("model", TINY_BERT, "refs/pr/1")
    commits = fetch(f"{fakehub.url}/api/models/{TINY_BERT}/commits/main").json()
    assert [c["id"] for c in commits] == [
        fakehub.commit_of("model", TINY_BERT, "main"),
        fakehub.commit_of("model", TINY_BERT, "v1.0"),
    ]


def test_xet_is_advertised_only_while_switched_on(fakehub):
    tree_url = f"{fakehub.url}/api/models/{TINY_BERT}/tree/main"
    head = fetch(fakehub.url + WEIGHTS, "HEAD").headers
    assert len(head["X-Xet-Hash"]) == 64
    assert 'rel="xet-auth"' in head["Link"] and 'rel="xet-reconstruction-info"' in head["Link"]
    assert any("xetHash" in row for row in fetch(tree_url).json())
    fakehub.xet = False
    assert "X-Xet-Hash" not in fetch(fakehub.url + WEIGHTS, "HEAD").headers
    assert not any("xetHash" in row for row in fetch(tree_url).json())


def test_xet_read_token_is_handed_out_in_headers(fakehub):
    sha = fakehub.commit_of("model", TINY_BERT, "main")
    reply = fetch(f"{fakehub.url}/api/models/{TINY_BERT}/xet-read-token/{sha}")
    assert reply.status == 200
    assert reply.headers["X-Xet-Cas-Url"] == fakehub.cdn_url
    assert reply.headers["X-Xet-Access-Token"]
    assert int(reply.headers["X-Xet-Token-Expiration"]) > time.time()


def test_housekeeping_and_unknown_routes(fakehub):
    harnesses = fetch(f"{fakehub.url}/api/agent-harnesses")
    assert harnesses.json() == {"standardEnvVars": [], "harnesses": {}}
    unknown = fetch(f"{fakehub.url}/api/whoami-v3")
    assert unknown.status == 404
    assert "error" in unknown.json()


def test_whoami_describes_a_token_and_refuses_none(fakehub):
    owner = fetch(f"{fakehub.url}/api/whoami-v2", headers=bearer("hf_owner"))
    anonymous = fetch(f"{fakehub.url}/api/whoami-v2")
    unknown = fetch(f"{fakehub.url}/api/whoami-v2", headers=bearer("hf_typo"))

    assert owner.status == 200
    assert owner.json()["name"] == "owner" and owner.json()["orgs"][0]["name"] == "acme"
    assert owner.json()["auth"]["accessToken"] == {"displayName": "owner-laptop", "role": "read"}
    assert (anonymous.status, unknown.status) == (401, 401)
    assert anonymous.json() == {"error": "Invalid credentials in Authorization header"}


# -- log and mutations ---------------------------------------------------------------------


def test_log_records_targets_headers_and_body_bytes(fakehub):
    location = fetch(fakehub.url + WEIGHTS, headers={"X-Test": "yes"}).headers["Location"]
    fetch(location)
    size = fakehub.blob("model", TINY_BERT, "main", "model.safetensors").size
    hub_entry, cdn_entry = fakehub.log
    assert (hub_entry.host, hub_entry.method, hub_entry.target) == ("hub", "GET", WEIGHTS)
    assert (hub_entry.status, hub_entry.headers["x-test"]) == (302, "yes")
    assert (cdn_entry.host, cdn_entry.status, cdn_entry.body_bytes) == ("cdn", 200, size)
    assert fakehub.body_bytes(host="cdn") == size
    assert fakehub.body_bytes(path_contains="resolve") == 0
    fakehub.clear_log()
    assert fakehub.log == []


def test_move_branch_adds_a_commit_and_reset_undoes_it(fakehub):
    before = fakehub.commit_of("model", TINY_BERT, "main")
    after = fakehub.move_branch("model", TINY_BERT, "main", {"config.json": b"{}\n"})
    reply = fetch(fakehub.url + CONFIG)
    assert (reply.headers["X-Repo-Commit"], reply.body) == (after, b"{}\n")
    assert fakehub.commit("model", TINY_BERT, after).parent == before
    assert fetch(f"{fakehub.url}/{TINY_BERT}/resolve/{before}/config.json").status == 200
    fakehub.reset_repos()
    assert fakehub.commit_of("model", TINY_BERT, "main") == before


def test_large_files_stream_from_one_generated_file(fakehub):
    size = 3 * 1024 * 1024 + 7
    digest = fakehub.add_large_file("model", TINY_BERT, "big.bin", size, seed=7)
    blob = fakehub.blob("model", TINY_BERT, "main", "big.bin")
    assert blob.data is None and blob.disk_path.stat().st_size == size
    location = fetch(f"{fakehub.url}/{TINY_BERT}/resolve/main/big.bin", "HEAD").headers["Location"]
    assert sha256_hex(fetch(location).body) == digest
    again = fakehub.add_large_file("model", TINY_BERT, "copy.bin", size, seed=7)
    assert again == digest
    assert fakehub.blob("model", TINY_BERT, "main", "copy.bin").disk_path == blob.disk_path
