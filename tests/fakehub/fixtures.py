"""pytest fixtures: one fake hub per test session, reset before every test.

Use it from a conftest.py (or a test module) with
    from tests.fakehub.fixtures import _fakehub_session, fakehub  # noqa: F401
"""

from collections.abc import Iterator

import pytest

from tests.fakehub.hub import FakeHub


@pytest.fixture(scope="session")
def _fakehub_session() -> Iterator[FakeHub]:
    """Starting the servers and building the data set costs a little; do it once."""
    hub = FakeHub().start()
    yield hub
    hub.stop()


@pytest.fixture
def fakehub(_fakehub_session: FakeHub) -> FakeHub:
    """The shared hub with faults cleared, an empty log and the default repos and refs."""
    _fakehub_session.reset()
    return _fakehub_session
