"""Root fixtures: the fake upstream hub and a mirror in front of it."""

from __future__ import annotations

import pytest

from hubmirror.settings import Settings
from tests.fakehub.fixtures import _fakehub_session, fakehub  # noqa: F401 - fixtures
from tests.support.mirror import MirrorThread
from tests.support.postgres import postgres_server, postgres_url  # noqa: F401 - fixtures
from tests.support.s3 import *  # noqa: F403 - fixtures (see its __all__)


def _settings(hub, data_dir, **overrides) -> Settings:
    base = Settings(data=str(data_dir), upstream=(hub.url,), port=0, upstream_timeout=5.0)
    return base.replace(**overrides)


@pytest.fixture
def make_mirror(_fakehub_session, tmp_path):  # noqa: F811
    """Start mirrors with setting overrides; each gets its own data directory."""
    started: list[MirrorThread] = []

    def make(**overrides) -> MirrorThread:
        data_dir = tmp_path / f"mirror-{len(started)}"
        server = MirrorThread(_settings(_fakehub_session, data_dir, **overrides)).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def mirror(make_mirror, fakehub):  # noqa: F811
    """A fresh mirror (empty cache) in front of the fake hub, for one test."""
    return make_mirror()


@pytest.fixture(scope="module")
def shared_mirror(_fakehub_session, tmp_path_factory):  # noqa: F811
    """One mirror for a whole test module, when tests only read through it."""
    data_dir = tmp_path_factory.mktemp("shared-mirror")
    server = MirrorThread(_settings(_fakehub_session, data_dir)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def strip_mirror(_fakehub_session, tmp_path_factory):  # noqa: F811
    """One mirror with Xet stripped (``xet_serve=False``) for a module's strip-mode tests."""
    data_dir = tmp_path_factory.mktemp("strip-mirror")
    server = MirrorThread(_settings(_fakehub_session, data_dir, xet_serve=False)).start()
    yield server
    server.stop()
