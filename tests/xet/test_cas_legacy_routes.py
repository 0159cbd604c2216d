"""The reconstruction routes of hf_xet before 1.3 (``/reconstruction/`` up to 1.1.9,
``/reconstructions/`` from 1.1.10 to 1.2.0): the v1 answer, with v1's checks."""

from __future__ import annotations

import json

import pytest

from hubmirror.types import RepoId, RepoType
from tests.support import http
from tests.xet import cas_support as cas

ROUTES = ["reconstruction", "reconstructions"]


@pytest.fixture
def server(make_mirror, fakehub):
    return make_mirror(xet_serve=True)


def _legacy(server, route: str, xet_hash: str, token=None, headers=None) -> http.Answer:
    headers = dict(headers or {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return http.get(f"{server.url}/xet-cas/{route}/{xet_hash}", headers=headers)


def _unsigned(body: dict) -> dict:
    """A v1 body without its fetch URLs (signed with an expiry: they differ by the second)."""
    fetches = {
        xorb: [{k: v for k, v in fetch.items() if k != "url"} for fetch in entries]
        for xorb, entries in body["fetch_info"].items()
    }
    return body | {"fetch_info": fetches}


@pytest.mark.parametrize("route", ROUTES)
def test_an_old_route_answers_the_v1_reconstruction(server, fakehub, route):
    served = cas.large(server, fakehub)
    token, _ = cas.token(server)

    answer = _legacy(server, route, served.xet_hash, token)

    v1 = cas.reconstruction(server, served.xet_hash, 1, token)
    assert _unsigned(json.loads(answer.body)) == _unsigned(json.loads(v1.body))
    assert cas.rebuild(answer, 1, len(served.data)) == served.data


@pytest.mark.parametrize("route", ROUTES)
def test_an_old_route_answers_a_range_as_v1_does(server, fakehub, route):
    served = cas.large(server, fakehub)
    token, _ = cas.token(server)
    start, end = 70_000, 200_000

    answer = _legacy(server, route, served.xet_hash, token, {"Range": f"bytes={start}-{end}"})

    assert cas.rebuild(answer, 1, end - start + 1) == served.data[start : end + 1]
    size = len(served.data)
    past = _legacy(server, route, served.xet_hash, token, {"Range": f"bytes={size}-"})
    assert past.status == 416  # what hf_xet 1.1 asks for after the last block


@pytest.mark.parametrize("route", ROUTES)
def test_an_old_route_refuses_what_v1_refuses(server, route):
    served = cas.fill(server, "config.json")
    token, _ = cas.token(server)
    other, _ = cas.token(server, RepoId(RepoType.MODEL, "acme/gated-model"))
    cases = {
        "no token": (served.xet_hash, None),
        "another repo's token": (served.xet_hash, other),
        "unknown hash": ("12" * 32, token),
        "malformed hash": ("not-a-hash", token),
    }

    seen = {name: _legacy(server, route, *case) for name, case in cases.items()}

    assert {name: answer.status for name, answer in seen.items()} == {
        "no token": 401,
        "another repo's token": 404,
        "unknown hash": 404,
        "malformed hash": 400,
    }
    for name, (xet_hash, bearer) in cases.items():
        v1 = cas.reconstruction(server, xet_hash, 1, bearer)
        assert (seen[name].status, seen[name].header("X-Error-Code")) == (
            v1.status,
            v1.header("X-Error-Code"),
        ), name
