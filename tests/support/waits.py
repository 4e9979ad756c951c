"""Polling until something holds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll_until(
    probe: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.25
) -> T | None:
    """Poll ``probe`` every ``interval`` seconds until it returns something truthy, and return
    that; after ``timeout`` seconds return its last (falsy) answer and let the caller judge."""
    deadline = time.monotonic() + timeout
    while True:
        last = probe()
        if last or time.monotonic() >= deadline:
            return last
        time.sleep(interval)


def wait_until(
    probe: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.25, what: str = ""
) -> T:
    """`poll_until`, failing after ``timeout`` seconds with ``what`` and the last answer."""
    last = poll_until(probe, timeout, interval)
    if not last:
        raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last: {last!r}")
    return last
