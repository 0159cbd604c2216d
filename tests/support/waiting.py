"""Waiting for something the server does after answering: poll a condition until a deadline.

A wait never asserts how long it took; the deadline only turns "never" into a failure that
names what was awaited. Free of hubmirror imports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    condition: Callable[[], T],
    what: str = "condition",
    timeout: float = 20.0,
    every: float = 0.05,
) -> T:
    """Poll ``condition`` until it returns something truthy, and return that value.

    Fails with an AssertionError naming ``what`` when ``timeout`` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened within {timeout} s: {what}")
        time.sleep(every)
