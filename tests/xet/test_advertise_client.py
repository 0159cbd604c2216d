"""A real huggingface_hub (with hf_xet, Xet not disabled) takes the mirror's Xet hash and token."""

from __future__ import annotations

import time

import pytest

from hubmirror.mirror.xet.tokens import read_token
from hubmirror.types import RepoId, RepoType
from tests.fakehub.defaults import TINY_BERT
from tests.support.clients import run_client
from tests.support.http import get
from tests.xet.advertise_support import head_once_hashed, xet_hash_of_bytes

pytestmark = pytest.mark.timeout(120)

WEIGHTS = "model.safetensors"

METADATA = f"""
from huggingface_hub import get_hf_file_metadata, hf_hub_url
from huggingface_hub.utils._xet import refresh_xet_connection_info

meta = get_hf_file_metadata(hf_hub_url({TINY_BERT!r}, {WEIGHTS!r}))
xet = meta.xet_file_data
info = refresh_xet_connection_info(file_data=xet, headers={{}})
emit({{
    "hash": xet.file_hash,
    "refresh": xet.refresh_route,
    "commit": meta.commit_hash,
    "cas": info.endpoint,
    "token": info.access_token,
}})
"""


def test_huggingface_hub_takes_the_mirrors_hash_and_token_route(make_mirror, fakehub, tmp_path):
    mirror = make_mirror(xet_serve=True)
    url = f"{mirror.url}/{TINY_BERT}/resolve/main/{WEIGHTS}"
    data = get(url).body
    head_once_hashed(url)
    commit = fakehub.commit_of("model", TINY_BERT, "main")

    seen = run_client(METADATA, mirror.url, tmp_path / "home")

    token = seen.pop("token")
    assert seen == {
        "hash": xet_hash_of_bytes(data),
        "refresh": f"{mirror.url}/api/models/{TINY_BERT}/xet-read-token/{commit}?revision=main",
        "commit": commit,
        "cas": f"{mirror.url}/xet-cas",
    }
    secret = mirror.call(mirror.mirror.index.xet.secret)
    assert read_token(secret, token, time.time()).repo == RepoId(RepoType.MODEL, TINY_BERT)
    assert not any("xet" in entry.target for entry in fakehub.log)  # upstream's Xet unused
