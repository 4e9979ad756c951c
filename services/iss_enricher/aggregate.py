"""One-minute (configurable) aggregates per satellite, folded inside a tumbling window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from iss_contract.enriched import EnrichedPosition

WINDOW_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
"""Windows are aligned to whole minutes (any instant at a minute boundary works)."""


@dataclass(slots=True)
class Accumulator:
    """Running sums of one window; mutable because the window fold owns it alone."""

    samples: int = 0
    ground_speed_sum: float = 0.0
    ground_speed_count: int = 0
    orbital_speed_sum: float = 0.0
    orbital_speed_count: int = 0
    min_altitude_km: float | None = None
    max_altitude_km: float | None = None


@dataclass(frozen=True, slots=True)
class WindowAggregate:
    """One row of `positions_1m`."""

    norad_id: int
    bucket: datetime
    samples: int
    mean_ground_speed_kmh: float | None
    mean_orbital_speed_kmh: float | None
    min_altitude_km: float | None
    max_altitude_km: float | None


def fold(acc: Accumulator, position: EnrichedPosition) -> Accumulator:
    """Add one enriched position to a window."""
    acc.samples += 1
    if position.ground_speed_kmh is not None:
        acc.ground_speed_sum += position.ground_speed_kmh
        acc.ground_speed_count += 1
    if position.orbital_speed_kmh is not None:
        acc.orbital_speed_sum += position.orbital_speed_kmh
        acc.orbital_speed_count += 1
    altitude = position.raw.altitude_km
    if altitude is not None:
        if acc.min_altitude_km is None or altitude < acc.min_altitude_km:
            acc.min_altitude_km = altitude
        if acc.max_altitude_km is None or altitude > acc.max_altitude_km:
            acc.max_altitude_km = altitude
    return acc


def finish(norad_id: int, window_id: int, length: timedelta, acc: Accumulator) -> WindowAggregate:
    """The table row of a closed window; `window_id` counts windows since WINDOW_ORIGIN."""
    return WindowAggregate(
        norad_id=norad_id,
        bucket=WINDOW_ORIGIN + length * window_id,
        samples=acc.samples,
        mean_ground_speed_kmh=(
            acc.ground_speed_sum / acc.ground_speed_count if acc.ground_speed_count else None
        ),
        mean_orbital_speed_kmh=(
            acc.orbital_speed_sum / acc.orbital_speed_count if acc.orbital_speed_count else None
        ),
        min_altitude_km=acc.min_altitude_km,
        max_altitude_km=acc.max_altitude_km,
    )
