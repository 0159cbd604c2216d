"""Fixtures of the tier suite: a site mirror whose upstream is a central mirror.

``chain`` is the topology of docs/scaling.md's tier section on loopback: the fake hub,
a central hubmirror in front of it, and a site hubmirror whose only upstream is the
central one. Clients talk to the site; the fake hub's log tells what reached the Hub.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.mirror import MirrorThread
from tests.tiers.relay import Relay


@dataclass
class Chain:
    """Two tiers: clients → ``site`` → ``central`` → fake hub."""

    central: MirrorThread
    site: MirrorThread

    def url(self, path: str) -> str:
        """``path`` on the site: what a client with ``HF_ENDPOINT`` = the site asks."""
        return self.site.url + path


@pytest.fixture
def chain(make_mirror, fakehub) -> Chain:
    """A cold central mirror and a cold site mirror in front of it, for one test."""
    central = make_mirror()
    site = make_mirror(upstream=(central.url,))
    return Chain(central, site)


@pytest.fixture
def strip_chain(make_mirror, fakehub) -> Chain:
    """A chain whose site strips Xet (``xet_serve=False``) in front of a central that serves
    it (the default): what the site's clients see must carry no Xet from either tier."""
    central = make_mirror()
    site = make_mirror(upstream=(central.url,), xet_serve=False)
    return Chain(central, site)


@pytest.fixture
def new_home(tmp_path: Path):
    """Make a fresh, empty HF_HOME on each call: a new machine at the site."""
    counter = itertools.count()

    def make() -> Path:
        path = tmp_path / f"home-{next(counter)}"
        path.mkdir()
        return path

    return make


@pytest.fixture
def home(new_home) -> Path:
    return new_home()


@pytest.fixture
def relayed(make_mirror, fakehub):
    """A chain whose site reaches the central through a ``Relay`` (the link between sites)."""
    central = make_mirror()
    relay = Relay(central.url).start()
    site = make_mirror(upstream=(relay.url,))
    yield Chain(central, site), relay
    relay.stop()


def stored_blobs(server: MirrorThread) -> list[Path]:
    """The blob files a mirror keeps in its data directory."""
    return [p for p in (server.data_dir / "blobs").rglob("*") if p.is_file()]
