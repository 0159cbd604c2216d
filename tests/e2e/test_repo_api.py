"""Listing and info calls through the mirror: list_repo_files, *_info, refs, tree, paths-info.

Besides the names, the metadata has to be the Hub's own (sizes, git blob ids, LFS sha256). With
Xet stripped (``xet_serve=False``) no `xetHash` may reach the client: hf_xet would use it.
"""

from __future__ import annotations

import json

import pytest

from tests.support.clients import (
    DATASET,
    GATED,
    MANY_FILES,
    MODEL,
    TINY_BERT,
    TINY_PARQUET,
    curl_fetch,
    git_blob_sha1,
    hub_files,
    run_client,
)

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("repo", [TINY_BERT, MANY_FILES])
def test_list_repo_files_lists_every_file(endpoint, home, fakehub, repo):
    """The recursive listing, every page of it, names exactly the hub's files."""
    code = f"""
    from huggingface_hub import list_repo_files
    emit(list_repo_files({repo!r}))
    """
    files = run_client(code, endpoint, home)

    assert len(files) == len(set(files)), "a page was listed twice"
    assert set(files) == hub_files(fakehub, MODEL, repo, "main")


def repo_info_files(endpoint, home, repo, repo_type):
    code = f"""
    from huggingface_hub import HfApi
    info = HfApi().repo_info({repo!r}, repo_type={repo_type!r}, files_metadata=True)
    emit({{
        "id": info.id,
        "sha": info.sha,
        "siblings": [
            {{
                "name": s.rfilename,
                "size": s.size,
                "blob_id": s.blob_id,
                "lfs": dict(s.lfs) if s.lfs else None,
                "attributes": sorted(vars(s)),
            }}
            for s in info.siblings
        ],
    }})
    """
    return run_client(code, endpoint, home)


def assert_siblings_match_hub(info, hub, repo_type, repo):
    commit = hub.commit_of(repo_type, repo, "main")
    assert info["sha"] == commit
    siblings = {s["name"]: s for s in info["siblings"]}
    assert set(siblings) == hub_files(hub, repo_type, repo, commit)
    for name, sibling in siblings.items():
        data = hub.file_bytes(repo_type, repo, commit, name)
        assert sibling["size"] == len(data), name
        assert not any("xet" in attr.lower() for attr in sibling["attributes"]), sibling
        if sibling["lfs"]:
            assert sibling["lfs"]["sha256"] == hub.file_sha256(repo_type, repo, commit, name)
            assert sibling["lfs"]["size"] == len(data)
        else:
            assert sibling["blob_id"] == git_blob_sha1(data), name
    return siblings


def test_model_info_with_files_metadata_has_hub_sizes_and_hashes(endpoint, home, fakehub):
    """model_info(files_metadata=True): sizes, git blob ids and LFS sha256 as on the hub."""
    info = repo_info_files(endpoint, home, TINY_BERT, MODEL)

    assert info["id"] == TINY_BERT
    siblings = assert_siblings_match_hub(info, fakehub, MODEL, TINY_BERT)
    assert siblings["model.safetensors"]["lfs"] is not None


def test_dataset_info_with_files_metadata_has_hub_sizes_and_hashes(endpoint, home, fakehub):
    """dataset_info(files_metadata=True) for a repo whose data file is in LFS."""
    info = repo_info_files(endpoint, home, TINY_PARQUET, DATASET)

    assert info["id"] == TINY_PARQUET
    siblings = assert_siblings_match_hub(info, fakehub, DATASET, TINY_PARQUET)
    assert siblings["data/train-00000-of-00001.parquet"]["lfs"] is not None


def test_tree_and_paths_info_carry_no_xet_hash(strip_endpoint, home, fakehub):
    """With Xet stripped, tree and paths-info entries lose `xetHash` but keep `lfs` intact
    (`snapshot_download` uses `xetHash` from a listing without any HEAD)."""
    code = f"""
    from huggingface_hub import HfApi
    api = HfApi()
    tree = list(api.list_repo_tree({TINY_BERT!r}, recursive=True))
    paths = api.get_paths_info({TINY_BERT!r}, ["config.json", "model.safetensors", "nope"])
    def row(entry):
        lfs = getattr(entry, "lfs", None)
        return [entry.path, getattr(entry, "xet_hash", None), dict(lfs) if lfs else None]
    emit({{"tree": [row(e) for e in tree], "paths": [row(e) for e in paths]}})
    """
    result = run_client(code, strip_endpoint, home)

    weights_sha = fakehub.file_sha256(MODEL, TINY_BERT, "main", "model.safetensors")
    for listing in ("tree", "paths"):
        assert [r for r in result[listing] if r[1] is not None] == [], listing
        lfs = {path: lfs for path, _, lfs in result[listing]}
        assert lfs["model.safetensors"]["sha256"] == weights_sha
    assert sorted(r[0] for r in result["paths"]) == ["config.json", "model.safetensors"]


def test_raw_api_json_has_no_xet_hash(strip_endpoint, fakehub):
    """With Xet stripped, the raw JSON of info, tree and paths-info never mentions xetHash
    (curl's view)."""
    endpoint = strip_endpoint
    assert fakehub.xet, "the fake hub must advertise Xet for this test to mean anything"
    urls = [
        f"{endpoint}/api/models/{TINY_BERT}?blobs=true",
        f"{endpoint}/api/models/{TINY_BERT}/tree/main?recursive=true&expand=false",
        f"{endpoint}/api/models/{TINY_BERT}/tree/main?recursive=true&expand=true",
        f"{endpoint}/api/datasets/{TINY_PARQUET}/tree/main/data?recursive=false&expand=false",
    ]
    for url in urls:
        response = curl_fetch(url)
        assert response.status == 200, url
        assert b"xetHash" not in response.body, url
        json.loads(response.body)
    paths_info = curl_fetch(
        f"{endpoint}/api/models/{TINY_BERT}/paths-info/main",
        "--data",
        "paths=model.safetensors&expand=false",
    )
    assert paths_info.status == 200
    assert b"xetHash" not in paths_info.body
    assert json.loads(paths_info.body)[0]["lfs"]["oid"] == fakehub.file_sha256(
        MODEL, TINY_BERT, "main", "model.safetensors"
    )


def test_list_repo_refs_names_branches_tags_and_pull_requests(endpoint, home, fakehub):
    """Refs point at the same commits as upstream; PRs appear when asked for."""
    code = f"""
    from huggingface_hub import list_repo_refs
    refs = list_repo_refs({TINY_BERT!r}, include_pull_requests=True)
    pick = lambda items: {{r.ref: r.target_commit for r in items}}
    emit({{"branches": pick(refs.branches), "tags": pick(refs.tags),
           "prs": pick(refs.pull_requests)}})
    """
    refs = run_client(code, endpoint, home)

    commit = fakehub.commit_of
    assert refs["branches"]["refs/heads/main"] == commit(MODEL, TINY_BERT, "main")
    assert refs["tags"] == {"refs/tags/v1.0": commit(MODEL, TINY_BERT, "v1.0")}
    assert refs["prs"]["refs/pr/1"] == commit(MODEL, TINY_BERT, "refs/pr/1")


def test_list_repo_refs_of_dataset_lists_the_parquet_convert(endpoint, home, fakehub):
    """The refs/convert/parquet branch shows up under `converts`."""
    code = f"""
    from huggingface_hub import list_repo_refs
    refs = list_repo_refs({TINY_PARQUET!r}, repo_type="dataset")
    emit({{r.ref: r.target_commit for r in refs.converts}})
    """
    converts = run_client(code, endpoint, home)

    assert converts == {
        "refs/convert/parquet": fakehub.commit_of(DATASET, TINY_PARQUET, "refs/convert/parquet")
    }


def test_model_info_passes_card_and_pipeline_fields_through(endpoint, home, fakehub):
    """transformers' pipeline() reads pipeline_tag and library_name; hfd.sh reads gated."""
    code = f"""
    from huggingface_hub import HfApi
    api = HfApi()
    bert = api.model_info({TINY_BERT!r})
    gated = api.model_info({GATED!r})
    emit({{
        "pipeline_tag": bert.pipeline_tag, "library_name": bert.library_name,
        "tags": bert.tags, "license": bert.card_data.get("license") if bert.card_data else None,
        "private": bert.private, "gated": gated.gated,
    }})
    """
    info = run_client(code, endpoint, home)

    repo = fakehub.repo(MODEL, TINY_BERT)
    assert info == {
        "pipeline_tag": repo.pipeline_tag,
        "library_name": repo.library_name,
        "tags": repo.tags,
        "license": repo.card_data["license"],
        "private": False,
        "gated": fakehub.repo(MODEL, GATED).gated,
    }
