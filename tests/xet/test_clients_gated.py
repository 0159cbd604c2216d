"""A gated repo through the mirror's Xet path: the token route takes a download's access
decision, so a refused user gets the Hub's gated error and the owner gets the bytes."""

from __future__ import annotations

import pytest

from tests.support.clients import GATED, OWNER_TOKEN, USER_TOKEN, run_client
from tests.xet import clients_support as xc

pytestmark = pytest.mark.timeout(120)

WEIGHTS = "model.safetensors"

REFUSED = (
    xc.XET_CHECK
    + f"""
from huggingface_hub import hf_hub_download
from huggingface_hub.utils._xet import _fetch_xet_connection_info_with_url

token_url = constants.ENDPOINT + "/api/models/{GATED}/xet-read-token/main"
emit({{
    "download": outcome(hf_hub_download, {GATED!r}, {WEIGHTS!r}),
    "token": outcome(
        _fetch_xet_connection_info_with_url, token_url, {{"Authorization": "Bearer hf_user"}}
    ),
}})
"""
)

ALLOWED = (
    xc.XET_CHECK
    + f"""
from huggingface_hub import hf_hub_download

emit(sha(hf_hub_download({GATED!r}, {WEIGHTS!r})))
"""
)


def test_gated_repo_refuses_a_xet_client_without_access_and_serves_the_owner(
    make_mirror, fakehub, tmp_path, caplog
):
    xc.start_logging(caplog)
    fakehub.xet_files = True  # upstream announces real Xet hashes, as huggingface.co does
    mirror = make_mirror(xet_serve=True)
    owner = {"Authorization": f"Bearer {OWNER_TOKEN}"}
    digests = xc.warm(mirror, GATED, [WEIGHTS], headers=owner)
    caplog.clear()

    refused = run_client(REFUSED, mirror.url, tmp_path / "user", USER_TOKEN, xc.XET_ON)

    assert refused == {"download": "GatedRepoError", "token": "GatedRepoError"}
    token_lines = [line for line in xc.requests(caplog) if "xet-read-token" in line]
    assert token_lines == [f"GET /api/models/{GATED}/xet-read-token/main 403"]
    assert not any("/xet-cas/" in line for line in xc.requests(caplog))
    caplog.clear()

    allowed = run_client(ALLOWED, mirror.url, tmp_path / "owner", OWNER_TOKEN, xc.XET_ON)

    assert allowed == digests[WEIGHTS]
    xc.xet_requests(caplog, GATED, [WEIGHTS])
