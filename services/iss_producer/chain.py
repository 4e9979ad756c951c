"""The fallback chain of sources: a pure state machine, driven with explicit times.

The active source is asked first on every tick. After `failures_to_switch` consecutive
failures the next source of the chain becomes active. While a fallback is active, the
first (primary) source is probed again every `probe_interval_s`; one success switches back.
Sources after the active one stand in for a single tick when the ones before them fail,
without becoming active.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

log = logging.getLogger(__name__)


class FallbackChain:
    def __init__(
        self,
        sources: Sequence[str],
        *,
        failures_to_switch: int,
        probe_interval_s: float,
        now: float,
    ) -> None:
        if not sources:
            raise ValueError("a chain needs at least one source")
        self.sources = tuple(sources)
        self.failures_to_switch = failures_to_switch
        self.probe_interval_s = probe_interval_s
        self._active = 0
        self._failures = dict.fromkeys(self.sources, 0)
        self._next_probe = now

    @property
    def active(self) -> str:
        return self.sources[self._active]

    @property
    def primary(self) -> str:
        return self.sources[0]

    def consecutive_failures(self, source: str) -> int:
        return self._failures[source]

    def probe_due(self, now: float) -> bool:
        return self._active > 0 and now >= self._next_probe

    def candidates(self, now: float) -> list[str]:
        """Sources to try this tick, in order, until one succeeds."""
        order = list(self.sources[self._active :])
        if self.probe_due(now):
            order.insert(0, self.primary)
            self._next_probe = now + self.probe_interval_s
        return order

    def record_success(self, source: str, now: float) -> None:
        self._failures[source] = 0
        index = self.sources.index(source)
        if index < self._active:
            log.info("source %s is back; switching from %s", source, self.active)
            self._active = index

    def record_failure(self, source: str, now: float) -> None:
        self._failures[source] += 1
        index = self.sources.index(source)
        if (
            index == self._active
            and self._failures[source] >= self.failures_to_switch
            and self._active + 1 < len(self.sources)
        ):
            self._active += 1
            self._next_probe = now + self.probe_interval_s
            log.warning(
                "source %s failed %d times in a row; switching to %s",
                source,
                self._failures[source],
                self.active,
            )
