"""The mirror's Xet CAS routes over HTTP: reconstructions, signed xorb fetches, telemetry."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from hubmirror.hub import xet
from hubmirror.types import RepoId, RepoType
from tests.support import http
from tests.xet import cas_support as cas


@pytest.fixture
def server(make_mirror, fakehub):
    return make_mirror(xet_serve=True)


@pytest.mark.parametrize("version", [1, 2])
def test_a_reconstruction_rebuilds_the_whole_file(server, fakehub, version):
    served = cas.large(server, fakehub)
    token, _ = cas.token(server)
    answer = cas.reconstruction(server, served.xet_hash, version, token)
    assert len(json.loads(answer.body)["terms"]) == 1  # 49 chunks: one virtual xorb
    assert cas.rebuild(answer, version, len(served.data)) == served.data


@pytest.mark.parametrize("version", [1, 2])
def test_a_ranged_reconstruction_rebuilds_exactly_that_range(server, fakehub, version):
    served = cas.large(server, fakehub)
    token, _ = cas.token(server)
    start, end = xet.CHUNK + 100, 5 * xet.CHUNK + 7
    answer = cas.reconstruction(
        server, served.xet_hash, version, token, {"Range": f"bytes={start}-{end}"}
    )
    assert json.loads(answer.body)["offset_into_first_range"] == 100
    assert cas.rebuild(answer, version, end - start + 1) == served.data[start : end + 1]


def test_a_range_past_the_end_is_clamped(server):
    served = cas.fill(server, "config.json")
    token, _ = cas.token(server)
    answer = cas.reconstruction(server, served.xet_hash, 2, token, {"Range": "bytes=3-99999999"})
    assert cas.rebuild(answer, 2, 99999999) == served.data[3:]


def test_a_range_starting_past_the_end_is_416(server):
    served = cas.fill(server, "config.json")
    token, _ = cas.token(server)
    size = len(served.data)
    answer = cas.reconstruction(server, served.xet_hash, 2, token, {"Range": f"bytes={size}-"})
    assert answer.status == 416
    assert answer.header("X-Error-Code") == "RangeNotSatisfiable"
    assert answer.header("Content-Range") == f"bytes */{size}"


@pytest.mark.parametrize("version", [1, 2])
def test_an_unknown_hash_is_404_on_both_versions(server, version):
    cas.fill(server, "config.json")
    token, _ = cas.token(server)
    answer = cas.reconstruction(server, "12" * 32, version, token)
    assert answer.status == 404
    assert answer.header("X-Error-Code") == "EntryNotFound"


def test_a_token_for_another_repo_gets_404(server):
    served = cas.fill(server, "config.json")
    token, _ = cas.token(server, RepoId(RepoType.MODEL, "acme/gated-model"))
    assert cas.reconstruction(server, served.xet_hash, 2, token).status == 404
    assert cas.reconstruction(server, served.xet_hash, 1, token).status == 404


def test_a_malformed_hash_is_400(server):
    token, _ = cas.token(server)
    assert cas.reconstruction(server, "not-a-hash", 2, token).status == 400


@pytest.mark.parametrize("problem", ["missing", "expired", "forged"])
def test_a_missing_expired_or_forged_token_is_401(server, problem):
    served = cas.fill(server, "config.json")
    token, _ = cas.token(server, now=time.time() - 7200)  # expired an hour ago
    if problem == "forged":
        token, _ = cas.token(server)
        token = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    answer = cas.reconstruction(server, served.xet_hash, 2, None if problem == "missing" else token)
    assert answer.status == 401


def _xorb_url(server, served, version=2) -> str:
    token, _ = cas.token(server)
    body = json.loads(cas.reconstruction(server, served.xet_hash, version, token).body)
    return next(iter(cas.fetch_descriptors(body, version).values()))[0][1]


def test_xorb_urls_point_at_the_mirror_itself(server):
    served = cas.fill(server, "config.json")
    assert _xorb_url(server, served).startswith(f"{server.url}/xet-cas/xorbs/")


@pytest.mark.parametrize("field", ["s", "b", "x"])
def test_a_tampered_xorb_url_is_403(server, field):
    served = cas.fill(server, "config.json")
    parts = urlsplit(_xorb_url(server, served))
    query = dict(parse_qsl(parts.query))
    query[field] = {"s": "0" * 64, "b": "cd" * 32, "x": "1"}[field]
    answer = http.get(f"{server.url}{parts.path}?{urlencode(query)}")
    assert answer.status == 403


def test_an_expired_xorb_url_is_403(server):
    served = cas.fill(server, "config.json")
    url = _xorb_url(server, served)
    server.mirror.xet_serving.clock = lambda: time.time() + 2 * 3600  # read at request time
    assert http.get(url).status == 403


def test_a_xorb_without_range_is_the_whole_xorb(server):
    served = cas.fill(server, "config.json")
    answer = http.get(_xorb_url(server, served))
    assert answer.status == 200
    assert answer.header("Content-Length") == str(len(served.data) + 8)
    assert cas.decode_records(answer.body) == [served.data]


def test_a_xorb_range_starting_past_the_end_is_416(server):
    served = cas.fill(server, "config.json")
    length = len(served.data) + 8
    answer = http.get(_xorb_url(server, served), headers={"Range": f"bytes={length}-"})
    assert answer.status == 416


def test_a_single_xorb_range_is_a_206_of_exactly_those_bytes(server, fakehub):
    served = cas.large(server, fakehub)
    first, last = 3, xet.RECORD + 20
    answer = http.get(_xorb_url(server, served), headers={"Range": f"bytes={first}-{last}"})
    assert answer.status == 206
    length = xet.xorb_length(len(served.data), 0)
    assert answer.header("Content-Range") == f"bytes {first}-{last}/{length}"
    whole = xet.header(xet.CHUNK) + served.data[: xet.CHUNK] + xet.header(xet.CHUNK)
    assert answer.body == (whole + served.data[xet.CHUNK :])[first : last + 1]


def _parts(answer: http.Answer) -> list[tuple[str, str, bytes]]:
    """(Content-Type, Content-Range, body) of each part of a multipart/byteranges answer."""
    boundary = re.search(r"boundary=(\S+)", answer.header("Content-Type"))[1].encode()
    parts = []
    for raw in answer.body.split(b"--" + boundary)[1:-1]:
        head, _, body = raw.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        parts.append((fields["Content-Type"], fields["Content-Range"], body.removesuffix(b"\r\n")))
    return parts


def test_several_xorb_ranges_are_a_multipart_answer(server, fakehub):
    served = cas.large(server, fakehub)
    length = xet.xorb_length(len(served.data), 0)
    spans = [(0, xet.RECORD - 1), (5 * xet.RECORD, 7 * xet.RECORD - 1)]
    header = "bytes=" + ",".join(f"{a}-{b}" for a, b in spans)
    answer = http.get(_xorb_url(server, served), headers={"Range": header})
    assert answer.status == 206
    assert answer.header("Content-Type").startswith("multipart/byteranges; boundary=")
    assert int(answer.header("Content-Length")) == len(answer.body)
    parts = _parts(answer)
    assert [p[:2] for p in parts] == [
        ("application/octet-stream", f"bytes {a}-{b}/{length}") for a, b in spans
    ]
    chunk = xet.CHUNK
    assert cas.decode_records(parts[0][2]) == [served.data[:chunk]]
    assert cas.decode_records(parts[1][2]) == [
        served.data[5 * chunk : 6 * chunk],
        served.data[6 * chunk : 7 * chunk],
    ]


def test_head_of_a_file_gives_its_length(server):
    served = cas.fill(server, "config.json")
    token, _ = cas.token(server)
    url = f"{server.url}/xet-cas/v1/files/{served.xet_hash}"
    answer = http.head(url, headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 200
    assert answer.header("Content-Length") == str(len(served.data))
    assert http.head(url).status == 401


def test_telemetry_is_accepted_and_dropped(server):
    report = json.dumps({"event": "xet_download_summary", "metrics": {}}).encode()
    answer = http.request("POST", f"{server.url}/xet-cas/v1/telemetry", body=report)
    assert (answer.status, json.loads(answer.body)) == (200, {})


def test_an_unknown_cas_route_is_404(server):
    assert http.get(f"{server.url}/xet-cas/v1/nothing").status == 404


def test_without_xet_serve_the_cas_routes_do_not_exist(make_mirror, fakehub):
    server = make_mirror(xet_serve=False)
    served = cas.fill(server, "config.json")
    token, _ = cas.token(server)
    answer = cas.reconstruction(server, served.xet_hash, 2, token)
    assert answer.status == 404
    assert "xet_serve" in answer.header("X-Error-Message")
    telemetry = http.request("POST", f"{server.url}/xet-cas/v1/telemetry", body=b"{}")
    assert telemetry.status == 404


def test_behind_a_public_url_with_a_path_the_cas_lives_below_it(make_mirror):
    server = make_mirror(xet_serve=True, public_url="http://mirror.example/hub")
    served = cas.fill(server, "config.json")
    token, _ = cas.token(server)
    answer = http.get(
        f"{server.url}/hub/xet-cas/v2/reconstructions/{served.xet_hash}",
        headers={"Authorization": f"Bearer {token}"},
    )
    url = next(iter(json.loads(answer.body)["xorbs"].values()))[0]["url"]
    assert url.startswith("http://mirror.example/hub/xet-cas/xorbs/")
    fetched = http.get(url.replace("http://mirror.example", server.url))
    assert cas.decode_records(fetched.body) == [served.data]


def test_a_model_of_a_user_named_xet_cas_is_still_a_model(server):
    answer = http.get(f"{server.url}/xet-cas/xorbs/resolve/main/config.json")
    assert answer.header("X-Error-Code") == "RepoNotFound"  # asked upstream, as any model
