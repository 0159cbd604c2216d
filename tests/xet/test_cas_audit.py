"""What the mirror shows of Xet downloads: audit records, metrics, rate limits.

A Xet client never GETs ``/resolve``: its download is a reconstruction followed by
xorb fetches. The reconstruction is audited like a file GET (who, which file, bytes,
HIT or MISS) and counted by the rate limit; xorb bytes count in the served bytes.
"""

from __future__ import annotations

import json

import pytest

from hubmirror.mirror.access.callers import token_fingerprint
from tests.audit.support import audited
from tests.fakehub import OWNER_TOKEN, TINY_BERT
from tests.support.clients import run_client
from tests.support.http import get, head
from tests.xet import cas_support as cas
from tests.xet import clients_support as xc
from tests.xet.advertise_support import cold_file
from tests.xet.test_cold_advertise import wait_fill_over

pytestmark = pytest.mark.timeout(120)

DOWNLOAD = (
    xc.XET_CHECK
    + f"""
from huggingface_hub import hf_hub_download

emit(sha(hf_hub_download({TINY_BERT!r}, "big.bin", token={OWNER_TOKEN!r})))
"""
)


def xet_downloads(server) -> list:
    return [r for r in audited(server) if r.event == "download" and r.action == "xet"]


def test_a_xet_download_is_audited_with_its_file_its_holder_and_its_bytes(
    make_mirror, fakehub, tmp_path
):
    server = make_mirror(xet_serve=True)
    served = cas.large(server, fakehub)

    seen = run_client(DOWNLOAD, server.url, tmp_path / "home", env=xc.XET_ON)

    assert seen == served.sha256
    [record] = xet_downloads(server)
    commit = fakehub.commit_of("model", TINY_BERT, "main")
    assert (record.repo_type, record.repo, record.revision, record.commit, record.path) == (
        "model",
        TINY_BERT,
        "main",
        commit,
        "big.bin",
    )
    assert (record.bytes, record.status, record.cache) == (len(served.data), 200, "HIT")
    assert record.fingerprint == token_fingerprint(f"Bearer {OWNER_TOKEN}")
    assert record.address == "127.0.0.1" and OWNER_TOKEN not in json.dumps(record._asdict())


def test_a_cold_files_xet_download_is_audited_as_a_miss(make_mirror, fakehub):
    sha256, data, true_hash = cold_file(fakehub, TINY_BERT, "cold.bin", 2 * 1024 * 1024, seed=9)
    fakehub.faults.bandwidth = 1024 * 1024
    server = make_mirror(xet_serve=True)
    assert head(f"{server.url}/{TINY_BERT}/resolve/main/cold.bin").header("X-Xet-Hash")

    answer = cas.reconstruction(server, true_hash, token_value=cas.token(server)[0])

    assert cas.rebuild(answer, 2, len(data)) == data
    wait_fill_over(server, sha256)
    [record] = xet_downloads(server)
    assert (record.path, record.cache, record.bytes) == ("cold.bin", "MISS", len(data))


def test_xorb_bytes_count_as_served_from_the_cache(make_mirror, fakehub):
    server = make_mirror(xet_serve=True)
    served = cas.large(server, fakehub)
    before = server.call(lambda: server.mirror.served.body_bytes["HIT"])

    answer = cas.reconstruction(server, served.xet_hash, token_value=cas.token(server)[0])

    assert cas.rebuild(answer, 2, len(served.data)) == served.data
    served_bytes = server.call(lambda: server.mirror.served.body_bytes["HIT"]) - before
    assert served_bytes >= len(served.data)  # the file's bytes plus the chunk headers
    kinds = server.call(lambda: {kind for kind, *_ in server.mirror.served.requests})
    assert "xet" in kinds


def test_reconstructions_count_against_the_rate_limit_and_xorb_fetches_do_not(make_mirror, fakehub):
    server = make_mirror(xet_serve=True, rate_limit=0.001, rate_burst=3)
    served = cas.large(server, fakehub)  # one GET
    token = cas.token(server)[0]

    allowed = [cas.reconstruction(server, served.xet_hash, token_value=token) for _ in range(2)]
    refused = cas.reconstruction(server, served.xet_hash, token_value=token)

    assert [a.status for a in allowed] == [200, 200]
    assert refused.status == 429 and refused.header("Retry-After")
    assert cas.rebuild(allowed[0], 2, len(served.data)) == served.data  # xorbs: not limited
    assert get(f"{server.url}/{TINY_BERT}/resolve/main/config.json").status == 429
