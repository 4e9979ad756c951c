"""What the status command found, and whether that is healthy. Pure data and logic."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class State(StrEnum):
    UP = "up"
    DOWN = "down"
    ABSENT = "absent"
    """Not running, and not required (the operator in the local stack)."""


@dataclass(frozen=True)
class Component:
    name: str
    state: State
    detail: str = ""
    required: bool = True


@dataclass(frozen=True)
class Position:
    norad_id: int
    event_time: datetime
    latitude: float
    longitude: float
    altitude_km: float | None
    source: str | None


@dataclass(frozen=True)
class Measure:
    """A number and where it came from; `value` None means it could not be measured."""

    value: float | None
    source: str = ""


@dataclass(frozen=True)
class Report:
    target: str
    at: datetime
    components: list[Component] = field(default_factory=list)
    stored_freshness_s: Measure = Measure(None)
    input_freshness_s: Measure = Measure(None)
    consumer_lag: Measure = Measure(None)
    dead_letters: Measure = Measure(None)
    latest: Position | None = None


@dataclass(frozen=True)
class Limits:
    max_freshness_s: float = 60.0
    max_lag: int = 1000


def problems(report: Report, limits: Limits) -> list[str]:
    """Everything that makes the pipeline unhealthy, in words; empty when healthy."""
    found = [
        f"{c.name} is down" + (f" ({c.detail})" if c.detail else "")
        for c in report.components
        if c.required and c.state is not State.UP
    ]
    fresh = report.stored_freshness_s.value
    if fresh is None:
        found.append("no stored data freshness could be measured")
    elif fresh > limits.max_freshness_s:
        found.append(f"stored data is {fresh:.0f} s old (limit {limits.max_freshness_s:.0f} s)")
    lag = report.consumer_lag.value
    if lag is not None and lag > limits.max_lag:
        found.append(f"consumer lag is {lag:.0f} messages (limit {limits.max_lag})")
    return found
