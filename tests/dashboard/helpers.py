"""Waiting for what the server records after answering (counters, audit batches)."""

from __future__ import annotations

import json
import time

from tests.support.http import get

WAIT = 20.0  # seconds before a condition that should hold soon is declared false


def eventually(condition, what: str):
    """Poll ``condition`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + WAIT
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def status_of(url: str) -> dict:
    answer = get(f"{url}/dashboard/api/status")
    assert answer.status == 200
    return json.loads(answer.body)
