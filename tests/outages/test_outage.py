"""An upstream outage is a 5xx, never a 404; what is cached keeps being served."""

from __future__ import annotations

import hashlib

from tests.support.http import get, head
from tests.support.waiting import wait_for

MODEL = "acme/tiny-bert"


def test_uncached_file_during_outage_is_5xx_not_404(mirror, fakehub):
    fakehub.faults.fail_status = 503
    answer = head(f"{mirror.url}/{MODEL}/resolve/main/config.json")
    assert answer.status == 503
    assert answer.header("X-Error-Code") == "UpstreamUnavailable"
    assert int(answer.header("Retry-After")) > 0


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


def test_a_refused_connection_opens_the_breaker_so_later_requests_fail_fast(make_mirror, fakehub):
    server = make_mirror(upstream_timeout=5.0)
    fakehub.go_down()
    try:
        first = head(f"{server.url}/{MODEL}/resolve/main/config.json")
        breaker = server.call(lambda: next(iter(server.mirror.pool.breakers.values())))
        state = breaker.state  # open after one refusal: later requests make no connect attempt
        answer = head(f"{server.url}/{MODEL}/resolve/main/tokenizer.json")
    finally:
        fakehub.come_up()
    assert (first.status, answer.status, state) == (503, 503, "open")
    said = answer.header("X-Error-Message")
    assert said.startswith("this mirror cannot reach its upstream: ") and "refused" in said


def test_an_unreachable_upstream_is_probed_in_the_background_and_used_again(make_mirror, fakehub):
    server = make_mirror(upstream_timeout=5.0)
    fakehub.go_down()
    assert head(f"{server.url}/{MODEL}/resolve/main/config.json").status == 503
    fakehub.come_up()
    breaker = server.call(lambda: next(iter(server.mirror.pool.breakers.values())))
    server.call(lambda: setattr(breaker, "opened_at", breaker.opened_at - breaker.cooldown))

    waiting = head(f"{server.url}/{MODEL}/resolve/main/config.json")  # starts the probe
    wait_for(lambda: breaker.state == "closed", "the probe to close the breaker", timeout=10)
    after = head(f"{server.url}/{MODEL}/resolve/main/config.json")

    assert waiting.status == 503  # answered at once, not after a connect attempt
    assert after.status == 200
    assert (fakehub.log[0].method, fakehub.log[0].target) == ("HEAD", "/")  # the probe first
