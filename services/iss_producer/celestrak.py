"""Refresh of a TLE from CelesTrak: rare, one attempt per interval, never a retry loop.

CelesTrak blocks clients that retry on non-200 answers, so every attempt, whatever its
outcome, waits for the full interval before the next one.
"""

from __future__ import annotations

import logging

import requests

from iss_physics.tle import Elements, ElementsError, find, parse_tle_text
from iss_producer.errors import Rejected
from iss_producer.sources.http import FetchError, get

TLE_MAX_BYTES = 1_048_576
"""Longest TLE answer read (one element set is 168 bytes)."""

log = logging.getLogger(__name__)


class TleRefresher:
    """Decides when to ask for a new TLE and asks once."""

    def __init__(self, url: str, norad_id: int, interval_s: float, timeout_s: float) -> None:
        self.url = url
        self.norad_id = norad_id
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._last_attempt: float | None = None
        self.attempts = 0

    def due(self, now: float, tle_age_s: float) -> bool:
        """An attempt is due when the TLE in use is at least one interval old and the last
        attempt (successful or not) was at least one interval ago."""
        if tle_age_s < self.interval_s:
            return False
        return self._last_attempt is None or now - self._last_attempt >= self.interval_s

    def fetch(self, session: requests.Session, now: float) -> Elements | None:
        """One request; None on any failure (logged), which is then left alone until next time."""
        self._last_attempt = now
        self.attempts += 1
        try:
            answer = get(session, self.url, self.timeout_s, max_bytes=TLE_MAX_BYTES)
        except (FetchError, Rejected) as exc:
            log.warning("TLE refresh failed; next attempt in %.0f s: %s", self.interval_s, exc)
            return None
        if answer.status != 200:
            log.warning(
                "TLE refresh answered HTTP %d; not retrying before %.0f s",
                answer.status,
                self.interval_s,
            )
            return None
        try:
            return find(parse_tle_text(answer.body.decode("ascii")), self.norad_id)
        except (ElementsError, UnicodeDecodeError) as exc:
            log.warning("TLE refresh returned unusable data: %s", exc)
            return None
