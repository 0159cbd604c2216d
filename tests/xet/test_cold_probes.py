"""A metadata probe of a cold file moves no bytes: only a request that wants them starts the fill.

huggingface.co announces a Xet hash for nearly every LFS file, so ``file_exists``,
``get_hf_file_metadata``, ``hf_hub_download(dry_run=True)`` and every scanner that HEADs
weights would otherwise make the mirror pull whole checkpoints. A Xet client's first request
that wants bytes is its reconstruction (it sends no GET): that starts the fill, which checks
upstream's hash as before.
"""

from __future__ import annotations

import pytest

from tests.fakehub import TINY_BERT
from tests.support.clients import run_client
from tests.support.http import head
from tests.xet import cas_support as cas
from tests.xet import clients_support as xc
from tests.xet.advertise_support import cold_file
from tests.xet.test_cold_advertise import wait_fill_over

pytestmark = pytest.mark.timeout(180)

BIG = "weights/probed.bin"
SIZE = 64 * 1024 * 1024
METADATA = 64 * 1024  # bytes of JSON answers a probe may cause upstream, far below SIZE

PROBES = (
    xc.XET_CHECK
    + f"""
from huggingface_hub import file_exists, get_hf_file_metadata, hf_hub_download, hf_hub_url

meta = get_hf_file_metadata(hf_hub_url({TINY_BERT!r}, {BIG!r}))
dry = hf_hub_download({TINY_BERT!r}, {BIG!r}, dry_run=True)
emit({{
    "exists": file_exists({TINY_BERT!r}, {BIG!r}),
    "size": meta.size,
    "xet_hash": meta.xet_file_data.file_hash if meta.xet_file_data else None,
    "dry_size": dry.file_size,
    "will_download": dry.will_download,
}})
"""
)

DOWNLOAD = (
    xc.XET_CHECK
    + f"""
from huggingface_hub import hf_hub_download

emit(sha(hf_hub_download({TINY_BERT!r}, {BIG!r})))
"""
)


@pytest.fixture
def cold(fakehub):
    """A 64 MiB Xet-backed LFS file upstream: its sha256, bytes and true Xet hash."""
    return cold_file(fakehub, TINY_BERT, BIG, SIZE, seed=41)


def cdn_requests(fakehub) -> list[str]:
    return [f"{e.method} {e.target}" for e in fakehub.log if e.host == "cdn"]


def test_a_head_of_a_cold_file_announces_upstreams_hash_and_moves_no_bytes(
    cold, fakehub, make_mirror
):
    sha256, _data, true_hash = cold
    mirror = make_mirror(xet_serve=True)

    answer = head(f"{mirror.url}/{TINY_BERT}/resolve/main/{BIG}")

    assert answer.status == 200 and answer.header("X-Xet-Hash") == true_hash
    assert answer.header("Content-Length") == str(SIZE)
    assert sha256 not in mirror.mirror.fills.running  # no fill started
    assert cdn_requests(fakehub) == []
    assert fakehub.body_bytes() < METADATA  # repo info and the like, no file bytes


def test_metadata_probes_of_real_clients_move_no_bytes_and_a_xet_download_still_works(
    cold, fakehub, make_mirror, tmp_path
):
    sha256, _data, true_hash = cold
    mirror = make_mirror(xet_serve=True)

    probed = run_client(PROBES, mirror.url, tmp_path / "probe", env=xc.XET_ON)

    assert probed == {
        "exists": True,
        "size": SIZE,
        "xet_hash": true_hash,
        "dry_size": SIZE,
        "will_download": True,
    }
    assert sha256 not in mirror.mirror.fills.running
    assert cdn_requests(fakehub) == []
    assert fakehub.body_bytes() < METADATA  # repo info and the like, no file bytes

    downloaded = run_client(DOWNLOAD, mirror.url, tmp_path / "download", env=xc.XET_ON)

    assert downloaded == sha256
    wait_fill_over(mirror, sha256)
    assert fakehub.body_bytes(host="cdn") == SIZE  # the reconstruction started the one fill
    assert mirror.mirror.index.xet.xet_hash_of(sha256) == true_hash  # checked, then recorded


def test_a_reconstruction_of_an_announced_hash_starts_the_fill_that_checks_it(
    cold, fakehub, make_mirror
):
    sha256, data, true_hash = cold
    mirror = make_mirror(xet_serve=True)
    assert head(f"{mirror.url}/{TINY_BERT}/resolve/main/{BIG}").header("X-Xet-Hash") == true_hash

    answer = cas.reconstruction(mirror, true_hash, token_value=cas.token(mirror)[0])

    assert answer.status == 200
    assert cas.rebuild(answer, 2, 1024 * 1024) == data[: 1024 * 1024]
    wait_fill_over(mirror, sha256)
    assert fakehub.body_bytes(host="cdn") == SIZE
    assert mirror.mirror.index.xet.xet_hash_of(sha256) == true_hash


def test_a_wrong_announced_hash_is_refused_at_the_cas_after_its_fill_fails(
    cold, fakehub, make_mirror
):
    sha256, _data, _true_hash = cold
    fakehub.faults.wrong_xet_hashes = {sha256}
    mirror = make_mirror(xet_serve=True)
    announced = head(f"{mirror.url}/{TINY_BERT}/resolve/main/{BIG}").header("X-Xet-Hash")
    token = cas.token(mirror)[0]

    first = cas.reconstruction(mirror, announced, token_value=token)
    wait_fill_over(mirror, sha256)
    again = cas.reconstruction(mirror, announced, token_value=token)

    assert first.status == 200  # served only from the fill that checks it ...
    assert again.status == 404  # ... which found it wrong: nothing stored, no way to bytes
    assert mirror.mirror.index.blob_by_id(sha256) is None
