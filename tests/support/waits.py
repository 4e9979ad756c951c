"""Polling until something holds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal, TypeVar, overload

T = TypeVar("T")


@overload
def wait_until(
    probe: Callable[[], T | None],
    timeout: float = ...,
    interval: float = ...,
    what: str = ...,
    *,
    raise_on_timeout: Literal[True] = ...,
) -> T: ...


@overload
def wait_until(
    probe: Callable[[], T | None],
    timeout: float = ...,
    interval: float = ...,
    what: str = ...,
    *,
    raise_on_timeout: Literal[False],
) -> T | None: ...


def wait_until(
    probe: Callable[[], T | None],
    timeout: float = 30.0,
    interval: float = 0.25,
    what: str = "",
    *,
    raise_on_timeout: bool = True,
) -> T | None:
    """Poll ``probe`` every ``interval`` seconds until it returns something truthy, and return
    that. After ``timeout`` seconds fail naming ``what`` and the last answer, or, with
    ``raise_on_timeout=False``, return the last (falsy) answer and let the caller judge."""
    deadline = time.monotonic() + timeout
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    if raise_on_timeout:
        raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last: {last!r}")
    return last
