"""The Xet path beyond a model's main branch: a dataset (its ``/api/datasets/`` token route)
and a pull-request ref, whose ``/`` the client quotes into the token route's revision."""

from __future__ import annotations

import pytest

from tests.fakehub.defaults import TINY_BERT
from tests.support.clients import TINY_CSV, run_client
from tests.support.http import get
from tests.xet import clients_support as xc

pytestmark = pytest.mark.timeout(120)

PR = "refs%2Fpr%2F1"
DATA = "data/big.parquet"
PR_WEIGHTS = "pr-weights.bin"

DOWNLOADS = (
    xc.XET_CHECK
    + f"""
from huggingface_hub import hf_hub_download

emit({{
    "dataset": sha(hf_hub_download({TINY_CSV!r}, {DATA!r}, repo_type="dataset")),
    "pr": sha(hf_hub_download({TINY_BERT!r}, {PR_WEIGHTS!r}, revision="refs/pr/1")),
}})
"""
)


def test_a_dataset_file_and_a_pull_request_file_take_the_xet_path(
    make_mirror, fakehub, tmp_path, caplog
):
    fakehub.add_large_file("dataset", TINY_CSV, DATA, 300_000, seed=6)
    fakehub.add_to_pull_request("model", TINY_BERT, 1, {PR_WEIGHTS: bytes(range(256)) * 999})
    xc.start_logging(caplog)
    mirror = make_mirror(xet_serve=True)
    data = xc.warm(mirror, f"datasets/{TINY_CSV}", [DATA])
    pr = xc.warm(mirror, TINY_BERT, [PR_WEIGHTS], revision=PR)
    caplog.clear()

    seen = run_client(DOWNLOADS, mirror.url, tmp_path / "home", env=xc.XET_ON)

    assert seen == {"dataset": data[DATA], "pr": pr[PR_WEIGHTS]}
    xc.settle(caplog)
    lines = xc.requests(caplog)
    tokens = [line for line in lines if "xet-read-token" in line]
    assert sorted(tokens) == sorted(
        [
            f"GET /api/datasets/{TINY_CSV}/xet-read-token/"
            f"{fakehub.commit_of('dataset', TINY_CSV, 'main')} 200",
            f"GET /api/models/{TINY_BERT}/xet-read-token/"
            f"{fakehub.commit_of('model', TINY_BERT, 'refs/pr/1')} 200",
        ]
    )
    assert xc.plain_gets(lines, f"datasets/{TINY_CSV}", [DATA]) == []
    assert xc.plain_gets(lines, TINY_BERT, [PR_WEIGHTS], revision=PR) == []


def test_an_unquoted_ref_in_the_token_route_is_told_to_quote_it(make_mirror):
    """huggingface_hub quotes the revision it puts in the token route; a hand-made URL with
    ``refs/pr/1`` as is gets a 404 that says why, not one about the method."""
    mirror = make_mirror(xet_serve=True)

    quoted = get(f"{mirror.url}/api/models/{TINY_BERT}/xet-read-token/{PR}")
    unquoted = get(f"{mirror.url}/api/models/{TINY_BERT}/xet-read-token/refs/pr/1")

    assert quoted.status == 200 and b"accessToken" in quoted.body
    assert unquoted.status == 404 and b"quote a '/' in it as %2F" in unquoted.body
