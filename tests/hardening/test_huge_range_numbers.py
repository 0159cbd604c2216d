"""A Range position no file could reach is a clean 400, not a traceback (int() of more
than 4,300 digits raises in Python), on every route that reads a Range."""

from __future__ import annotations

import json

import pytest

from tests.support.http import get
from tests.xet import cas_support as cas

HUGE = "9" * 4400


@pytest.mark.parametrize("header", [f"bytes={HUGE}-", f"bytes=0-{HUGE}", f"bytes=-{HUGE}"])
def test_a_huge_range_number_on_resolve_is_400(mirror, fakehub, header):
    answer = get(f"{mirror.url}/acme/tiny-bert/resolve/main/config.json", headers={"Range": header})
    assert (answer.status, answer.header("X-Error-Code")) == (400, "BadRequest")
    assert "position too large" in answer.header("X-Error-Message")
    assert fakehub.log == []


def test_a_twenty_digit_range_number_is_400_too(mirror, fakehub):
    header = "bytes=0-" + "1" * 20
    answer = get(f"{mirror.url}/acme/tiny-bert/resolve/main/config.json", headers={"Range": header})
    assert (answer.status, answer.header("X-Error-Code")) == (400, "BadRequest")


def test_a_nineteen_digit_range_end_is_clamped_to_the_file(mirror, fakehub):
    body = get(f"{mirror.url}/acme/tiny-bert/resolve/main/config.json").body
    header = "bytes=2-" + "9" * 19
    answer = get(f"{mirror.url}/acme/tiny-bert/resolve/main/config.json", headers={"Range": header})
    assert answer.status == 206
    assert answer.body == body[2:]


def test_a_huge_range_number_on_a_reconstruction_is_400(make_mirror, fakehub):
    server = make_mirror(xet_serve=True)
    served = cas.fill(server, "config.json")
    token, _ = cas.token(server)
    answer = cas.reconstruction(server, served.xet_hash, 2, token, {"Range": f"bytes=0-{HUGE}"})
    assert (answer.status, answer.header("X-Error-Code")) == (400, "BadRequest")


@pytest.mark.parametrize("header", [f"bytes={HUGE}-", f"bytes=0-{HUGE}", f"bytes=0-1,{HUGE}-"])
def test_a_huge_range_number_on_a_xorb_fetch_is_400(make_mirror, fakehub, header):
    server = make_mirror(xet_serve=True)
    served = cas.fill(server, "config.json")
    token, _ = cas.token(server)
    body = json.loads(cas.reconstruction(server, served.xet_hash, 2, token).body)
    url = next(iter(cas.fetch_descriptors(body, 2).values()))[0][1]
    answer = get(url, headers={"Range": header})
    assert (answer.status, answer.header("X-Error-Code")) == (400, "BadRequest")
