"""Backoff after HTTP 429 and 5xx: exponential with full jitter, Retry-After honoured."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def jittered_delay(attempt: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**(attempt-1))]."""
    ceiling = min(cap_s, base_s * 2.0 ** max(0, attempt - 1))
    return rng.uniform(0.0, ceiling)


def backoff_delay(
    attempt: int,
    retry_after: float | None,
    *,
    base_s: float,
    cap_s: float,
    rng: random.Random,
) -> float:
    """How long to leave a source alone: at least Retry-After (capped), else jittered backoff."""
    delay = jittered_delay(attempt, base_s, cap_s, rng)
    if retry_after is not None:
        # Honour the server, plus a little jitter so many producers do not return in step.
        delay = min(cap_s, retry_after) + rng.uniform(0.0, min(base_s, cap_s) * 0.1)
    return delay


class SourceGate:
    """Per-source pacing: a minimum interval between requests and a backoff deadline."""

    def __init__(self, min_interval_s: float = 0.0) -> None:
        self.min_interval_s = min_interval_s
        self.last_request: float | None = None
        self.blocked_until = 0.0
        self.consecutive_errors = 0

    def in_backoff(self, now: float) -> bool:
        return now < self.blocked_until

    def paced(self, now: float) -> bool:
        """True while the polite minimum interval since the last request has not passed."""
        return self.last_request is not None and now - self.last_request < self.min_interval_s

    def requested(self, now: float) -> None:
        self.last_request = now

    def back_off(self, now: float, delay_s: float) -> None:
        self.blocked_until = max(self.blocked_until, now + delay_s)
