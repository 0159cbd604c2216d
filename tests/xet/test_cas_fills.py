"""Xorb fetches during a fill of their blob: served as the bytes arrive, cut if the fill fails."""

from __future__ import annotations

import http.client
import json
import threading

import pytest

from tests.fakehub.defaults import TINY_BERT
from tests.support import http as raw
from tests.support.waiting import wait_for
from tests.xet import cas_support as cas


@pytest.fixture
def server(make_mirror, fakehub):
    return make_mirror(xet_serve=True)


class Background(threading.Thread):
    """A GET in a thread: its answer, or the error it ended with."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.answer, self.error = url, None, None
        self.start()

    def run(self) -> None:
        try:
            self.answer = raw.get(self.url, timeout=60)
        except (http.client.HTTPException, ConnectionError) as exc:
            self.error = exc


def _refilling(server, fakehub, served):
    """The blob's file deleted, a plain client's GET refilling it from a hung upstream,
    and a xorb fetch of it: both read the fill (two readers) before upstream answers."""
    token, _ = cas.token(server)
    body = json.loads(cas.reconstruction(server, served.xet_hash, 2, token).body)
    (entry,) = body["xorbs"][body["terms"][0]["hash"]]
    server.mirror.store.path_for(served.sha256).unlink()
    fakehub.faults.hang = True
    plain = Background(f"{server.url}/{TINY_BERT}/resolve/main/big.bin")
    _wait_for(server, lambda m: served.sha256 in m.fills.running)
    xorb = Background(entry["url"])
    _wait_for(server, lambda m: m.in_use.readers.get(served.sha256, 0) == 2)
    return plain, xorb


def _wait_for(server, condition) -> None:
    wait_for(
        lambda: server.call(condition, server.mirror),
        "the mirror to reach the expected state",
        every=0.02,
    )


def test_a_xorb_is_served_from_the_running_fill_of_its_blob(server, fakehub):
    served = cas.large(server, fakehub)
    plain, xorb = _refilling(server, fakehub, served)
    fakehub.faults.hang = False
    plain.join(60)
    xorb.join(60)
    assert plain.answer.body == served.data
    assert xorb.answer.status == 200
    assert b"".join(cas.decode_records(xorb.answer.body)) == served.data


def test_a_fill_that_fails_cuts_the_xorb_fetch(server, fakehub):
    served = cas.large(server, fakehub)
    plain, xorb = _refilling(server, fakehub, served)
    fakehub.faults.fail_status = 404  # upstream lost the file: the fill fails for good
    fakehub.faults.hang = False
    plain.join(60)
    xorb.join(60)
    assert isinstance(xorb.error, http.client.IncompleteRead)  # aborted: never a clean end
    refused = plain.answer  # before its first byte: upstream's refusal, not a cut 200
    assert refused.status >= 400 and b"Injected failure 404" in refused.body


def test_a_node_without_the_blob_on_disk_serves_xorbs_from_the_object_store(
    make_mirror, fakehub, s3_settings, tmp_path
):
    server = make_mirror(xet_serve=True, local_tier_size=0, **s3_settings)
    served = cas.large(server, fakehub)
    assert list(server.data_dir.rglob(served.sha256)) == []  # only in the bucket
    fakehub.clear_log()
    token, _ = cas.token(server)
    answer = cas.reconstruction(server, served.xet_hash, 2, token, {"Range": "bytes=5-200000"})
    assert cas.rebuild(answer, 2, 199996) == served.data[5:200001]
    assert fakehub.log == []
