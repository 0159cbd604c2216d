"""A Xet download outlives its token: hf_xet renews it through the token route.

Tokens live minutes (a revoke holds at every CAS request anyway); a download that takes
longer goes on with the token hf_xet fetches again, 30 s before the old one runs out.
Here tokens live less than that, so hf_xet renews before its first reconstruction.
"""

from __future__ import annotations

import pytest

from hubmirror.mirror.xet import tokens as xet_tokens
from tests.fakehub import TINY_BERT
from tests.support.clients import run_client
from tests.xet import cas_support as cas
from tests.xet import clients_support as xc

pytestmark = pytest.mark.timeout(180)

LIFETIME = 20  # seconds: hf_xet renews a token 30 s before it runs out, so at once here


def test_hf_xet_renews_a_short_lived_token_through_the_token_route_and_finishes(
    make_mirror, fakehub, tmp_path, caplog, monkeypatch
):
    xc.start_logging(caplog)
    monkeypatch.setattr(xet_tokens, "TOKEN_TTL", LIFETIME)
    fakehub.xet_files = True
    sha256 = fakehub.add_large_file("model", TINY_BERT, "big.bin", cas.LARGE_SIZE, seed=61)
    mirror = make_mirror(xet_serve=True)

    seen = run_client(xc.DOWNLOAD_BIG, mirror.url, tmp_path / "home", env=xc.XET_ON)

    assert seen == sha256
    lines = xc.xet_requests(caplog, TINY_BERT, ["big.bin"])
    tokens = [line for line in lines if "xet-read-token" in line]
    assert len(tokens) >= 2, lines  # huggingface_hub's, then hf_xet's renewal
    assert all(line.endswith(" 200") for line in tokens)
