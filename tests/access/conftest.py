"""The e2e fixture for fresh client homes."""

from tests.e2e.conftest import new_home  # noqa: F401
