"""When the hub is unreachable, a warm mirror keeps serving, and a cold file is "try later".

huggingface_hub treats 5xx as "use my cache" but remembers a 404 EntryNotFound forever
(and `.no_exist` in its cache). So an outage must never be answered with "not found".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.clients import MODEL, TINY_BERT, TINY_CSV, curl_fetch, hub_files, run_client
from tests.support.hashing import sha256_of

pytestmark = pytest.mark.timeout(180)

SNAPSHOT = f"""
from huggingface_hub import snapshot_download
emit(snapshot_download({TINY_BERT!r}))
"""


def test_warm_mirror_serves_a_snapshot_while_upstream_is_down(cold_endpoint, new_home, fakehub):
    """A new user gets the full snapshot from a mirror whose upstream went away."""
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    expected = hub_files(fakehub, MODEL, TINY_BERT, commit)
    run_client(SNAPSHOT, cold_endpoint, new_home())
    fakehub.go_down()

    root = run_client(SNAPSHOT, cold_endpoint, new_home(), timeout=90)

    root = Path(root)
    assert root.name == commit
    for name in expected:
        assert sha256_of(root / name) == fakehub.file_sha256(MODEL, TINY_BERT, commit, name)


NOT_FOUND_CODES = {"EntryNotFound", "RepoNotFound", "RevisionNotFound", "GatedRepo"}


@pytest.mark.parametrize(
    "path",
    [
        f"/{TINY_BERT}/resolve/main/config.json",
        f"/datasets/{TINY_CSV}/resolve/main/data/train.csv",
        f"/api/models/{TINY_BERT}/revision/main",
        f"/api/models/{TINY_BERT}/tree/main?recursive=true&expand=false",
    ],
)
@pytest.mark.parametrize("method", ["HEAD", "GET"])
def test_uncached_entry_while_upstream_is_down_is_5xx_not_missing(
    cold_endpoint, fakehub, path, method
):
    """A cold mirror without upstream answers 5xx without a not-found code.

    The client turns that into LocalEntryNotFoundError ("Hub unreachable") after its retries
    (which, honouring Retry-After, take about a minute, so curl asks here instead).
    """
    fakehub.go_down()

    response = curl_fetch(cold_endpoint + path, method=method)

    assert 500 <= response.status < 600, (response.status, response.headers)
    assert response.headers.get("x-error-code") not in NOT_FOUND_CODES
