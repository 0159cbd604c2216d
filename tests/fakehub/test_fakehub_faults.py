"""Every fault switch does what it says, checked over bare HTTP with short timeouts."""

import gzip
import http.client
import time

import pytest

from tests.fakehub import TINY_BERT
from tests.fakehub.wire import CONFIG, WEIGHTS, fetch


def test_latency_delays_every_answer(fakehub):
    fakehub.faults.latency = 0.3
    started = time.monotonic()
    assert fetch(f"{fakehub.url}/api/agent-harnesses").status == 200
    assert time.monotonic() - started >= 0.3


def test_bandwidth_paces_file_bodies(fakehub):
    fakehub.move_branch("model", TINY_BERT, "main", {"blob.txt": b"x" * 100_000})
    fakehub.faults.bandwidth = 100_000
    started = time.monotonic()
    reply = fetch(f"{fakehub.url}/{TINY_BERT}/resolve/main/blob.txt")
    elapsed = time.monotonic() - started
    assert len(reply.body) == 100_000
    assert 0.8 <= elapsed < 5


def test_fail_status_for_the_next_n_requests(fakehub):
    fakehub.faults.fail_status, fakehub.faults.fail_count = 503, 2
    fakehub.faults.retry_after = 1
    statuses = [fetch(fakehub.url + CONFIG, "HEAD").status for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert [e.status for e in fakehub.log] == statuses
    assert fakehub.faults.fail_status is None


def test_fail_status_without_count_lasts_until_reset(fakehub):
    fakehub.faults.fail_status = 429
    fakehub.faults.retry_after = 3
    for _ in range(3):
        reply = fetch(fakehub.url + WEIGHTS, "HEAD")
        assert (reply.status, reply.headers["Retry-After"]) == (429, "3")
    fakehub.reset_faults()
    assert fetch(fakehub.url + WEIGHTS, "HEAD").status == 302


def test_fail_every_fails_every_nth_request(fakehub):
    fakehub.faults.fail_every = 2
    statuses = [fetch(fakehub.url + CONFIG, "HEAD").status for _ in range(6)]
    assert statuses == [200, 503, 200, 503, 200, 503]
    fakehub.reset_faults()
    assert [fetch(fakehub.url + CONFIG, "HEAD").status for _ in range(2)] == [200, 200]


def test_drop_after_cuts_the_body_mid_way(fakehub):
    location = fetch(fakehub.url + WEIGHTS, "HEAD").headers["Location"]
    fakehub.clear_log()
    fakehub.faults.drop_after, fakehub.faults.drop_count = 100, 1
    with pytest.raises(http.client.IncompleteRead) as cut:
        fetch(location)
    assert len(cut.value.partial) == 100
    assert fakehub.body_bytes(host="cdn") == 100
    size = fakehub.blob("model", TINY_BERT, "main", "model.safetensors").size
    assert len(fetch(location).body) == size


def test_info_body_answers_every_repo_info_with_it(fakehub):
    fakehub.faults.info_body = {"error": "Internal Error"}
    private = fetch(f"{fakehub.url}/api/models/acme/private-model")
    anywhere = fetch(f"{fakehub.url}/api/models/nobody/nothing/revision/main")
    assert [(r.status, r.json()) for r in (private, anywhere)] == [
        (200, {"error": "Internal Error"})
    ] * 2
    assert fetch(fakehub.url + CONFIG).status == 200  # files are untouched
    fakehub.reset_faults()
    assert fetch(f"{fakehub.url}/api/models/acme/private-model").status == 401


def test_hang_never_answers_until_reset(fakehub):
    fakehub.faults.hang = True
    with pytest.raises(TimeoutError):
        fetch(fakehub.url + CONFIG, timeout=0.5)
    assert fakehub.log[-1].status == 0
    fakehub.reset_faults()
    assert fetch(fakehub.url + CONFIG).status == 200


def test_down_refuses_connections_then_listens_on_the_same_ports(fakehub):
    urls = (fakehub.url, fakehub.cdn_url)
    fakehub.go_down()
    assert fakehub.faults.down
    for url in urls:
        with pytest.raises(ConnectionRefusedError):
            fetch(url + "/api/agent-harnesses", timeout=2)
    fakehub.faults.down = False
    assert (fakehub.url, fakehub.cdn_url) == urls
    assert fetch(fakehub.url + "/api/agent-harnesses").status == 200


def test_gzip_only_when_the_request_accepts_it(fakehub):
    fakehub.faults.gzip = True
    data = fakehub.file_bytes("model", TINY_BERT, "main", "config.json")
    squeezed = fetch(fakehub.url + CONFIG, headers={"Accept-Encoding": "gzip, deflate"})
    assert squeezed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(squeezed.body) == data
    plain = fetch(fakehub.url + CONFIG, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert plain.body == data


def test_reset_connections_resets_without_an_answer(fakehub):
    import http.client

    fakehub.faults.reset_connections = True
    conn = http.client.HTTPConnection("127.0.0.1", int(fakehub.url.rsplit(":", 1)[1]), timeout=5)
    try:
        conn.request("GET", "/api/models/acme/tiny-bert")
        try:
            conn.getresponse()
        except (ConnectionResetError, http.client.RemoteDisconnected):
            pass
        else:
            raise AssertionError("an answer came back")
    finally:
        conn.close()
