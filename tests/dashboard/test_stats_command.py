"""``hubmirror stats``: the dashboard's traffic numbers in a terminal, from the index."""

from __future__ import annotations

import json

import pytest

from hubmirror.progress import human_bytes
from hubmirror.settings import Settings
from tests.dashboard.helpers import status_of
from tests.fakehub.defaults import TINY_BERT
from tests.support.commands import hubmirror
from tests.support.http import get
from tests.support.mirror import MirrorThread
from tests.support.waiting import wait_for


@pytest.mark.timeout(60)
def test_stats_prints_the_traffic_a_stopped_server_counted(fakehub, tmp_path):
    data = tmp_path / "data"
    server = MirrorThread(Settings(data=str(data), upstream=(fakehub.url,), port=0)).start()
    target = f"{server.url}/{TINY_BERT}/resolve/main/config.json"
    size = len(get(target).body)
    get(target)
    wait_for(lambda: status_of(server.url)["requests"]["hits"] == 1, "the hit counted")
    server.stop()  # the last seconds' counts are written at shutdown

    out = hubmirror("stats", "--data", str(data), check=True).stdout
    assert (
        f"last 60 days: {human_bytes(size)} served from the cache (bandwidth saved),"
        f" {human_bytes(size)} fetched upstream, 2 file requests, 50.0% from the cache"
    ) in out
    assert f"cache: 1 file, {human_bytes(size)} (no quota)" in out
    assert f"  model:{TINY_BERT}  {human_bytes(2 * size):>10}  2 file requests" in out
    numbers = json.loads(hubmirror("stats", "--data", str(data), "--json", check=True).stdout)
    assert numbers["total"]["from_cache"] == size and numbers["total"]["requests"] == 2
    assert numbers["top_by_requests"] == [
        {"repo": f"model:{TINY_BERT}", "bytes": 2 * size, "requests": 2}
    ]


def test_stats_refuses_a_directory_that_holds_no_store(tmp_path):
    proc = hubmirror("stats", "--data", str(tmp_path / "nothing"))
    assert proc.returncode == 1
    assert "no hubmirror data directory at" in proc.stderr
    assert not (tmp_path / "nothing").exists()
