"""The fake upstream's Xet CAS: what the mirror's Xet tests rely on it to do, like the Hub.

Real Xet hashes (hf_xet's own), the token route with the Hub's access rules, a CAS that
checks its bearer token and honours Range, signed xorb links, and a real hf_xet client
that rebuilds exact bytes from it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile

import hf_xet
import pytest

from hubmirror.hub import xet
from tests.fakehub import GATED_MODEL, OWNER_TOKEN, TINY_BERT
from tests.fakehub.wire import bearer, fetch

pytestmark = pytest.mark.timeout(60)

PATH = "weights/xet.bin"
SIZE = 2 * 1024 * 1024 + 5


@pytest.fixture
def hub(fakehub):
    fakehub.xet_files = True
    fakehub.add_large_file("model", TINY_BERT, PATH, SIZE, seed=4)
    fakehub.clear_log()
    return fakehub


def xet_head(hub, repo: str, path: str, token: str | None = None):
    reply = fetch(f"{hub.url}/{repo}/resolve/main/{path}", "HEAD", bearer(token))
    return reply.headers


def read_token(hub, repo: str, token: str | None = None):
    commit = hub.commit_of("model", repo, "main")
    return fetch(f"{hub.url}/api/models/{repo}/xet-read-token/{commit}", headers=bearer(token))


def hf_xet_hash(data: bytes) -> str:
    handle, path = tempfile.mkstemp()
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    try:
        return hf_xet.hash_files([path])[0].hash
    finally:
        os.unlink(path)


def test_the_advertised_xet_hash_is_hf_xets_hash_of_the_bytes(hub):
    data = hub.file_bytes("model", TINY_BERT, "main", PATH)
    headers = xet_head(hub, TINY_BERT, PATH)
    rows = fetch(f"{hub.url}/api/models/{TINY_BERT}/tree/main/weights").json()

    assert headers["X-Xet-Hash"] == hf_xet_hash(data)
    assert [r["xetHash"] for r in rows if r["path"] == PATH] == [headers["X-Xet-Hash"]]
    assert 'rel="xet-auth"' in headers["Link"]


def test_the_token_route_names_the_cas_and_follows_the_gate(hub):
    assert read_token(hub, GATED_MODEL).status == 401
    owner = read_token(hub, GATED_MODEL, OWNER_TOKEN)

    assert owner.status == 200
    assert owner.headers["X-Xet-Cas-Url"] == owner.json()["casUrl"] == hub.cas_url
    assert owner.headers["X-Xet-Access-Token"] == owner.json()["accessToken"]


def test_reconstructions_need_a_token_and_honour_range(hub):
    xet_hash = xet_head(hub, TINY_BERT, PATH)["X-Xet-Hash"]
    url = f"{hub.cas_url}/v2/reconstructions/{xet_hash}"
    token = read_token(hub, TINY_BERT).json()["accessToken"]

    assert fetch(url).status == 401
    assert fetch(url, headers={"Authorization": "Bearer xet_forged_1_00"}).status == 401
    assert fetch(url, headers={**bearer(token), "Range": f"bytes={SIZE}-"}).status == 416
    assert (
        fetch(f"{hub.cas_url}/v2/reconstructions/{'0' * 64}", headers=bearer(token)).status == 404
    )
    plan = fetch(url, headers={**bearer(token), "Range": "bytes=70000-70010"}).json()
    assert plan["offset_into_first_range"] == 70000 - xet.CHUNK
    assert [t["range"] for t in plan["terms"]] == [{"start": 1, "end": 2}]


def test_xorb_links_are_signed_and_ranges_exact(hub):
    xet_hash = xet_head(hub, TINY_BERT, PATH)["X-Xet-Hash"]
    token = read_token(hub, TINY_BERT).json()["accessToken"]
    plan = fetch(f"{hub.cas_url}/v1/reconstructions/{xet_hash}", headers=bearer(token)).json()
    [(xorb, [info])] = plan["fetch_info"].items()
    start = info["url_range"]["start"]

    body = fetch(info["url"], headers={"Range": f"bytes={start}-{start + 9}"})
    forged = fetch(info["url"].replace("signature=", "signature=0"))

    assert body.status == 206
    assert body.body == xet.header(xet.CHUNK) + hub.file_bytes("model", TINY_BERT, "main", PATH)[:2]
    assert forged.status == 403


def test_a_real_hf_xet_client_rebuilds_a_byte_range(hub):
    data = hub.file_bytes("model", TINY_BERT, "main", PATH)
    xet_hash = xet_head(hub, TINY_BERT, PATH)["X-Xet-Hash"]
    token = read_token(hub, TINY_BERT).json()
    config = hf_xet.XetConfig().with_config({"telemetry.enabled": False})
    group = hf_xet.XetSession(config).new_download_stream_group(
        endpoint=token["casUrl"], token=token["accessToken"], token_expiry_unix_secs=token["exp"]
    )

    part = b"".join(group.download_stream(hf_xet.XetFileInfo(xet_hash, SIZE), 1000, SIZE - 3))

    assert hashlib.sha256(part).digest() == hashlib.sha256(data[1000 : SIZE - 3]).digest()
    assert [e.host for e in hub.log if "/xorbs/" in e.target] == ["cas"]
