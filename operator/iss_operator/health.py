"""Liveness that tells the truth: every check loop and every background loop must keep beating.

Each loop calls ``beat(key, max_age)`` at the end of every round. ``problems()`` names the loops
whose last beat is older than their ``max_age``, Pipelines that exist in the API but have no
check loop in this process (the watch stream stopped delivering them), and a list of the
Pipelines that the API server keeps refusing (401 or 403: the operator cannot see its work).
``/healthz`` answers 500 with that list, so the kubelet restarts the pod; outside a cluster the
process exits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Clock = Callable[[], float]


@dataclass
class Beat:
    at: float
    max_age: float


@dataclass
class Health:
    """What the background loops last reported, on the monotonic clock."""

    clock: Clock = time.monotonic
    beats: dict[str, Beat] = field(default_factory=dict)
    unserved_since: dict[str, float] = field(default_factory=dict)
    unserved_grace: float = 60.0
    refused: dict[str, tuple[float, str]] = field(default_factory=dict)

    def beat(self, key: str, max_age: float) -> None:
        self.beats[key] = Beat(self.clock(), max_age)

    def forget(self, key: str) -> None:
        self.beats.pop(key, None)

    def audit(self, existing: Iterable[str], served: Iterable[str]) -> None:
        """Remember since when each existing Pipeline has had no check loop here."""
        now = self.clock()
        missing = set(existing) - set(served)
        self.unserved_since = {key: self.unserved_since.get(key, now) for key in sorted(missing)}

    def refusal(self, key: str, message: str | None) -> None:
        """Record that the API server refuses ``key`` (``message``), or no longer does (None)."""
        if message is None:
            self.refused.pop(key, None)
        else:
            since = self.refused.get(key, (self.clock(), message))[0]
            self.refused[key] = (since, message)

    def problems(self) -> list[str]:
        now = self.clock()
        found = [
            f"{key}: no progress for {now - beat.at:.0f}s (limit {beat.max_age:.0f}s)"
            for key, beat in sorted(self.beats.items())
            if now - beat.at > beat.max_age
        ]
        found += [
            f"{key}: exists but has had no check loop for {now - since:.0f}s"
            for key, since in sorted(self.unserved_since.items())
            if now - since > self.unserved_grace and key not in self.beats
        ]
        found += [
            f"{key}: refused for {now - since:.0f}s: {message}"
            for key, (since, message) in sorted(self.refused.items())
            if now - since > self.unserved_grace
        ]
        return found
