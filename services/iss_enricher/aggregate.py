"""One-minute (configurable) aggregates per satellite, folded inside a tumbling window.

The fold is the fast path: a window is counted in memory and its row written once it closes. A
position that arrives for a window that has already closed (late, or early-closed by a stall of
the input) is stored like any other and names its window in `PositionBatch.late_windows`; the
positions output then recounts that window from the stored positions, in the same transaction
that stores the position (`iss_enricher.storage.sink.RECOUNT_WINDOWS`). So every window's row
equals its stored positions however late they come, and rewriting it is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from iss_contract.enriched import EnrichedPosition

WINDOW_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
"""Windows are aligned to whole minutes (any instant at a minute boundary works)."""


class PositionBatch(list[EnrichedPosition]):
    """Enriched positions in arrival order, and the windows that their late positions belong
    to, as (NORAD id, window start): those windows are recounted from the stored positions."""

    __slots__ = ("late_windows",)

    def __init__(self, positions: list[EnrichedPosition] | None = None) -> None:
        super().__init__(positions or ())
        self.late_windows: set[tuple[int, datetime]] = set()


def window_start(window_id: int, length: timedelta) -> datetime:
    """The start of a window; `window_id` counts windows since WINDOW_ORIGIN."""
    return WINDOW_ORIGIN + length * window_id


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
        bucket=window_start(window_id, length),
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
