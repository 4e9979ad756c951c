"""Per-satellite enrichment: previous position in, enriched record out.

`advance` is the whole state machine; the dataflow calls it once per record, keyed by NORAD id,
and snapshots the `Track` for recovery.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from iss_contract.enriched import EnrichedPosition
from iss_contract.raw import RawPosition
from iss_enricher import metrics
from iss_physics import geometry


@dataclass(frozen=True, slots=True)
class EnrichRules:
    """The knobs of the state machine."""

    max_gap_seconds: float = 30.0
    """A longer gap to the previous position resets the speed to null instead of averaging."""
    duplicate_memory: int = 128
    """How many recent event times per satellite are remembered to recognise duplicates."""
    min_step_seconds: float = 0.5
    """A shorter step to the previous position gives a null speed: timestamp jitter and rounded
    coordinates would dominate it."""
    max_ground_speed_kmh: float = 36_000.0
    """A faster ground speed is impossible for an Earth satellite (a LEO ground track moves at
    most about 30,000 km/h, Earth's rotation included) and is stored as null."""


@dataclass(slots=True)
class Track:
    """What the enricher remembers about one satellite between records."""

    last_time: float
    """Unix time of the newest event seen."""
    last_latitude: float
    last_longitude: float
    recent: deque[float] = field(default_factory=deque)
    """Event times of recent records (bounded), to drop duplicates that arrive late."""


def enrich_position(
    raw: RawPosition,
    *,
    ground_speed_kmh: float | None,
    heading_deg: float | None,
    enriched_at: datetime,
    moment: float | None = None,
) -> EnrichedPosition:
    """Derive every per-position field that does not depend on the previous position.

    `moment` is `raw.event_time` as a unix time when the caller has it already.
    """
    sun = geometry.solar_position_at(raw.event_time.timestamp() if moment is None else moment)
    daylight, sunlit, circular, solar_time, footprint = geometry.point_fields(
        sun, raw.latitude, raw.longitude, raw.altitude_km
    )
    velocity = raw.velocity_kmh
    return EnrichedPosition(
        raw=raw,
        ground_speed_kmh=ground_speed_kmh,
        heading_deg=heading_deg,
        orbital_speed_kmh=circular if velocity is None else velocity,
        subsolar_latitude=sun.subsolar_latitude,
        subsolar_longitude=sun.subsolar_longitude,
        ground_daylight=daylight,
        satellite_sunlit=sunlit,
        local_solar_time_h=solar_time,
        footprint_radius_km=footprint,
        enriched_at=enriched_at,
    )


def _step(
    track: Track, raw: RawPosition, rules: EnrichRules, elapsed: float
) -> tuple[float | None, float | None]:
    """Ground speed and heading of the step from the track's last point to `raw`, `elapsed`
    seconds later; None for what the step cannot tell (a gap, a short or implausible step)."""
    if elapsed > rules.max_gap_seconds:
        return None, None
    if elapsed < rules.min_step_seconds:
        metrics.SHORT_STEP.inc()
        return None, None
    distance, bearing = geometry.track_step(
        track.last_latitude, track.last_longitude, raw.latitude, raw.longitude
    )
    speed = distance / elapsed * 3600.0
    if speed > rules.max_ground_speed_kmh:
        metrics.IMPLAUSIBLE_SPEED.inc()
        return None, None
    # A zero-length step has no heading.
    return speed, (bearing if distance > 0.0 else None)


def advance(
    track: Track | None,
    raw: RawPosition,
    rules: EnrichRules,
    now: datetime,
    moment: float | None = None,
) -> tuple[Track, EnrichedPosition | None]:
    """Fold one position into a satellite's track.

    Returns the new track and the enriched record, or None for a duplicate (an event time already
    seen recently). A position older than the newest one is enriched but gets no speed and does
    not move the track; one after a gap longer than `max_gap_seconds` starts the track afresh.
    A step shorter than `min_step_seconds`, or one faster than `max_ground_speed_kmh`, moves
    the track but gives a null speed and heading (counted by reason); a zero-length step gives
    a speed of 0 and a null heading.
    `moment` is `raw.event_time` as a unix time when the caller has it already.
    """
    if moment is None:
        moment = raw.event_time.timestamp()
    if track is None:
        track = Track(moment, raw.latitude, raw.longitude, deque([moment]))
        first = enrich_position(
            raw, ground_speed_kmh=None, heading_deg=None, enriched_at=now, moment=moment
        )
        return track, first

    # Nothing remembered is newer than last_time, so only an older time needs the scan.
    if moment <= track.last_time and (moment == track.last_time or moment in track.recent):
        return track, None
    track.recent.append(moment)
    while len(track.recent) > rules.duplicate_memory:
        track.recent.popleft()

    if moment < track.last_time:
        late = enrich_position(
            raw, ground_speed_kmh=None, heading_deg=None, enriched_at=now, moment=moment
        )
        return track, late

    speed, heading = _step(track, raw, rules, moment - track.last_time)
    track.last_time = moment
    track.last_latitude = raw.latitude
    track.last_longitude = raw.longitude
    enriched = enrich_position(
        raw, ground_speed_kmh=speed, heading_deg=heading, enriched_at=now, moment=moment
    )
    return track, enriched
