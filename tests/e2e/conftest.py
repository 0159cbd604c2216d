"""Fixtures of the end-to-end suite: real clients, in subprocesses, against a live mirror.

``endpoint`` is the one switch: it is what the clients get as ``HF_ENDPOINT``.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.support.clients import REFERENCE_ORIGIN


def assert_clients_only_talked_to_the_mirror(hub) -> None:
    """Every request the fake hub saw came from the mirror, not from a client going around it.

    Clients send `hf_hub/<version>` in their user agent (hf_xet's requests too); the mirror
    does not. Runs that ask the fake hub directly for a reference answer are marked.
    """
    strays = [
        (entry.host, entry.method, entry.target, entry.headers.get("user-agent"))
        for entry in list(hub.log)
        if "hf_hub/" in entry.headers.get("user-agent", "")
        and REFERENCE_ORIGIN not in entry.headers.get("user-agent", "")
    ]
    assert strays == [], f"clients reached the hub without the mirror: {strays[:5]}"


@pytest.fixture
def endpoint(shared_mirror, fakehub):
    """The HF_ENDPOINT every client of a test uses: the mirror, never the fake hub.

    One mirror serves a whole module (starting one per test would dominate the run time);
    tests that must see a cold mirror use `cold_endpoint`. The fake hub keeps advertising
    Xet, as huggingface.co does: the mirror serves Xet itself (the default) or strips it.
    """
    assert fakehub.xet
    yield shared_mirror.url
    assert_clients_only_talked_to_the_mirror(fakehub)


@pytest.fixture
def cold_endpoint(mirror, fakehub):
    """A mirror with an empty cache, started for this test alone."""
    assert fakehub.xet
    yield mirror.url
    assert_clients_only_talked_to_the_mirror(fakehub)


@pytest.fixture
def strip_endpoint(strip_mirror, fakehub):
    """Like `endpoint`, through a mirror that strips Xet (``xet_serve=False``): plain HTTP only."""
    assert fakehub.xet
    yield strip_mirror.url
    assert_clients_only_talked_to_the_mirror(fakehub)


@pytest.fixture
def strip_cold_endpoint(make_mirror, fakehub):
    """Like `cold_endpoint`, with Xet stripped (``xet_serve=False``)."""
    assert fakehub.xet
    yield make_mirror(xet_serve=False).url
    assert_clients_only_talked_to_the_mirror(fakehub)


@pytest.fixture
def new_home(tmp_path: Path):
    """Make a fresh, empty HF_HOME on each call, as a new machine or user would have."""
    counter = itertools.count()

    def make(name: str = "home") -> Path:
        path = tmp_path / f"{name}-{next(counter)}"
        path.mkdir(parents=True)
        return path

    return make


@pytest.fixture
def home(new_home) -> Path:
    return new_home()
