"""An upstream outage is a 5xx, never a 404; what is cached keeps being served."""

from __future__ import annotations

import hashlib

from tests.support.http import get, head

MODEL = "acme/tiny-bert"


def test_uncached_file_during_outage_is_5xx_not_404(mirror, fakehub):
    fakehub.faults.fail_status = 503
    answer = head(f"{mirror.url}/{MODEL}/resolve/main/config.json")
    assert 500 <= answer.status < 600
    assert answer.header("X-Error-Code") in ("UpstreamUnavailable", "UpstreamTimeout")


def test_cached_file_is_served_stale_when_upstream_is_down(make_mirror, fakehub):
    server = make_mirror(metadata_ttl=0)
    target = f"{server.url}/{MODEL}/resolve/main/model.safetensors"
    first = get(target)
    fakehub.go_down()
    try:
        answer = get(target)
    finally:
        fakehub.come_up()
    assert answer.status == 200
    assert answer.header("X-Cache-Status") == "STALE"
    assert hashlib.sha256(answer.body).hexdigest() == hashlib.sha256(first.body).hexdigest()


def test_upstream_5xx_on_api_is_5xx(mirror, fakehub):
    fakehub.faults.fail_status = 500
    answer = get(f"{mirror.url}/api/models/{MODEL}/revision/main")
    assert 500 <= answer.status < 600
