"""The real clients through two tiers: ``HF_ENDPOINT`` = a site mirror in front of a central one.

The same snippets as the single-mirror e2e suite (snapshot_download, hf_hub_download,
transformers, datasets downloaded and streamed); the files must come out byte-identical,
and the Hub must see each blob's bytes once however many tiers and clients ask.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.conftest import assert_clients_only_talked_to_the_mirror
from tests.fakehub import TINY_CSV_TEST_ROWS, TINY_CSV_TRAIN_ROWS, TINY_PARQUET_ROWS
from tests.support.clients import (
    DATASET,
    MODEL,
    TINY_BERT,
    TINY_CSV,
    TINY_PARQUET,
    hub_files,
    run_client,
)
from tests.support.hashing import sha256_of
from tests.support.http import get

pytestmark = pytest.mark.timeout(120)

LARGE = "weights/large.bin"
LARGE_SIZE = 20 * 1024 * 1024

MODEL_RUN = f"""
from huggingface_hub import hf_hub_download, snapshot_download
from transformers import AutoConfig, AutoTokenizer
root = snapshot_download({TINY_BERT!r})
single = hf_hub_download({TINY_BERT!r}, "model.safetensors")
config = AutoConfig.from_pretrained({TINY_BERT!r})
tok = AutoTokenizer.from_pretrained({TINY_BERT!r})
emit({{"root": root, "single": single, "hidden_size": config.hidden_size,
       "ids": tok("hello world")["input_ids"]}})
"""

DATASETS_RUN = f"""
import datasets
out = {{}}
for repo in ({TINY_CSV!r}, {TINY_PARQUET!r}):
    for streaming in (False, True):
        ds = datasets.load_dataset(repo, streaming=streaming)
        counts = {{s: len(list(ds[s]) if streaming else ds[s].to_list()) for s in ds}}
        out[f"{{repo}} {{streaming}}"] = counts
emit(out)
"""


def test_model_clients_through_two_tiers_get_every_file_byte_identical(chain, home, fakehub):
    """snapshot_download, hf_hub_download, AutoConfig and AutoTokenizer via site → central."""
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    expected = hub_files(fakehub, MODEL, TINY_BERT, commit)
    fakehub.clear_log()

    result = run_client(MODEL_RUN, chain.site.url, home)

    root = Path(result["root"])
    assert root.name == commit
    for name in expected:
        assert sha256_of(root / name) == fakehub.file_sha256(MODEL, TINY_BERT, commit, name), name
    lfs = fakehub.blob(MODEL, TINY_BERT, commit, "model.safetensors")
    assert sha256_of(result["single"]) == lfs.sha256
    config = json.loads(fakehub.file_bytes(MODEL, TINY_BERT, commit, "config.json"))
    assert result["hidden_size"] == config["hidden_size"]
    assert result["ids"]
    assert_clients_only_talked_to_the_mirror(fakehub)
    for name in expected:
        blob = fakehub.blob(MODEL, TINY_BERT, commit, name)
        sent = fakehub.body_bytes(path_contains=blob.sha256 if blob.lfs else "/" + name)
        assert sent == blob.size, f"{name}: the hub sent {sent} bytes for a {blob.size}-byte file"


def test_datasets_through_two_tiers_load_every_row_downloaded_and_streamed(chain, home, fakehub):
    """load_dataset csv and parquet, with and without streaming=True (Range reads)."""
    result = run_client(DATASETS_RUN, chain.site.url, home, timeout=150)

    csv_counts = {"train": TINY_CSV_TRAIN_ROWS, "test": TINY_CSV_TEST_ROWS}
    assert result[f"{TINY_CSV} False"] == csv_counts
    assert result[f"{TINY_CSV} True"] == csv_counts
    assert result[f"{TINY_PARQUET} False"] == {"train": TINY_PARQUET_ROWS}
    assert result[f"{TINY_PARQUET} True"] == {"train": TINY_PARQUET_ROWS}
    assert_clients_only_talked_to_the_mirror(fakehub)
    parquet = fakehub.blob(DATASET, TINY_PARQUET, "main", "data/train-00000-of-00001.parquet")
    assert fakehub.body_bytes(host="cdn", path_contains=parquet.sha256) == parquet.size


def test_a_large_file_leaves_the_hub_once_for_parallel_clients_of_two_cold_tiers(chain, fakehub):
    """Four clients at once on a cold site over a cold central: one CDN transfer of the file."""
    digest = fakehub.add_large_file(MODEL, TINY_BERT, LARGE, LARGE_SIZE, seed=8)
    fakehub.clear_log()
    url = chain.url(f"/{TINY_BERT}/resolve/main/{LARGE}")

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: get(url, timeout=60), range(4)))

    assert [a.status for a in answers] == [200] * 4
    assert {hashlib.sha256(a.body).hexdigest() for a in answers} == {digest}
    assert fakehub.body_bytes(host="cdn", path_contains=digest) == LARGE_SIZE
    assert file_transfers(fakehub) and all(digest in t for t in file_transfers(fakehub))


SNAPSHOT = f"""
from huggingface_hub import snapshot_download
emit(snapshot_download({TINY_BERT!r}))
"""


def file_transfers(hub) -> list[str]:
    """Requests that carried file bytes from the fake hub: CDN GETs and /resolve/ GETs."""
    return [
        e.target
        for e in list(hub.log)
        if e.method == "GET" and (e.host == "cdn" or "/resolve/" in e.target)
    ]


def test_a_second_site_on_the_same_central_needs_no_file_from_the_hub(
    chain, fakehub, make_mirror, new_home
):
    """Another site (its own data dir) gets every byte from the central's cache."""
    digest = fakehub.add_large_file(MODEL, TINY_BERT, LARGE, LARGE_SIZE, seed=8)
    path = f"/{TINY_BERT}/resolve/main/{LARGE}"
    first = Path(run_client(SNAPSHOT, chain.site.url, new_home()))
    fakehub.clear_log()

    other = make_mirror(upstream=(chain.central.url,))
    again = Path(run_client(SNAPSHOT, other.url, new_home()))

    assert file_transfers(fakehub) == []
    assert again.name == first.name
    for name in hub_files(fakehub, MODEL, TINY_BERT, first.name):
        assert sha256_of(again / name) == sha256_of(first / name), name
    assert sha256_of(again / LARGE) == digest
    answer = get(other.url + path, timeout=60)
    assert answer.status == 200 and answer.header("X-Cache-Status") == "HIT"
