"""Helpers of the mirror-token tests: tokens issued straight into a running mirror's index."""

from __future__ import annotations

import time

import pytest

from hubmirror.mirror.access.identities import create_token


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture
def issue():
    """``issue(server, NAME, *globs)`` → a new mirror token, as ``hubmirror token create`` makes."""

    def make(server, name: str, *repos: str) -> str:
        index = server.mirror.index
        return server.call(lambda: create_token(index, name, repos, None, time.time()))

    return make
