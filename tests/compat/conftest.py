"""The compatibility suite's one session fixture: an interpreter per client generation."""

from __future__ import annotations

import pytest

from tests.compat import generations


@pytest.fixture(scope="session")
def client_pythons() -> dict[str, str]:
    """Built once per session (in parallel) and kept for later sessions: see ``generations``."""
    return generations.pythons()
