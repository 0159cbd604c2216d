"""Fixtures of the hf-cache tests: fresh HF_HOMEs as in the e2e suite."""

from tests.e2e.conftest import new_home  # noqa: F401 - fixture
