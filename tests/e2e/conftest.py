"""Fixtures of the end-to-end suite: real clients, in subprocesses, against a live mirror.

``endpoint`` is the one switch: it is what the clients get as ``HF_ENDPOINT``.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest


@pytest.fixture
def endpoint(shared_mirror, fakehub) -> str:
    """The HF_ENDPOINT every client of a test uses: the mirror, never the fake hub.

    One mirror serves a whole module (starting one per test would dominate the run time);
    tests that must see a cold mirror use `cold_endpoint`. The fake hub keeps advertising
    Xet, as huggingface.co does: stripping it is the mirror's job.
    """
    assert fakehub.xet
    return shared_mirror.url


@pytest.fixture
def cold_endpoint(mirror, fakehub) -> str:
    """A mirror with an empty cache, started for this test alone."""
    assert fakehub.xet
    return mirror.url


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
