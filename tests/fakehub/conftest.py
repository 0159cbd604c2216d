"""The fake hub's own tests use its fixtures directly, so they run without the root conftest
(which imports the same fixtures for the rest of the suite)."""

from tests.fakehub.fixtures import _fakehub_session, fakehub  # noqa: F401
