"""Passes of satellites over an observer: rise, culmination, set, and whether they can be seen.

A pass is kept when any part of it lies inside the window; the search starts half an orbit
before the window and ends half an orbit after it (at most 12 h each way), so a pass already
under way at the start is reported whole. Elevations are geometric (no atmospheric
refraction); azimuths are from true north, clockwise. See `iss_passes.search` for the method.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict, Unpack

import numpy as np
from sgp4.api import Satrec

from iss_passes.clock import Clock
from iss_passes.errors import WindowError
from iss_passes.geometry import Station
from iss_passes.observer import Observer
from iss_passes.search import GRID_STEP_S, Found, find_passes, grid_elevations, positions
from iss_passes.sun import SunTrack, sunlit
from iss_passes.visibility import visible_moments
from iss_physics.tle import Elements

MAX_EPOCH_DAYS = 30.0
"""SGP4 errors grow by kilometres a day; past this many days from the epoch, passes are refused."""
VISIBILITY_STEP_S = 10.0
"""Spacing of the samples the visibility rule is checked on between rise and set; the edges of
the visible part are then found by bisection."""
CHUNK = 250
"""Satellites propagated together on the grid (bounds memory: about 10 MB an array for 24 h)."""
_DAY_S = 86400.0
_MAX_MARGIN_S = 43200.0
_EDGE_SLACK_DEG = 0.01
_EDGE_ITERATIONS = 7  # a 10 s sample step -> 0.08 s


@dataclass(frozen=True, slots=True)
class Pass:
    """One pass above the minimum elevation. Times are UTC; angles in degrees."""

    norad_id: int
    rise: datetime
    culmination: datetime
    set: datetime
    rise_azimuth_deg: float
    culmination_azimuth_deg: float
    set_azimuth_deg: float
    max_elevation_deg: float
    visible: bool
    """Whether any moment of the pass is visible to the eye (see `iss_passes.visibility`)."""
    visible_from: datetime | None
    """When the visible part starts (to 0.1 s), or None."""
    visible_until: datetime | None
    """When the visible part ends (to 0.1 s), or None."""

    @property
    def duration_s(self) -> float:
        return (self.set - self.rise).total_seconds()


def epoch_of(model: Satrec) -> datetime:
    """The epoch of an SGP4 model, UTC."""
    days = (model.jdsatepoch - 2440587.5) + model.jdsatepochF
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=days)


def check_window(
    epoch: datetime, start: datetime, end: datetime, max_epoch_days: float | None
) -> None:
    """Raise WindowError for a naive or empty window, or one too far from `epoch`."""
    if start.tzinfo is None or end.tzinfo is None:
        raise WindowError("start and end must be timezone-aware")
    if end <= start:
        raise WindowError(f"the window ends ({end.isoformat()}) before it starts")
    if max_epoch_days is None:
        return
    worst = max(abs((start - epoch).total_seconds()), abs((end - epoch).total_seconds()))
    if worst > max_epoch_days * _DAY_S:
        raise WindowError(
            f"the elements' epoch {epoch.strftime('%Y-%m-%dT%H:%M:%SZ')} is "
            f"{worst / _DAY_S:.1f} days from the window; SGP4 is trusted only within "
            f"{max_epoch_days:g} days: use a fresher TLE"
        )


class SearchOptions(TypedDict, total=False):
    """How `predict_passes` and `predict_many` search, beyond the window."""

    max_epoch_days: float | None
    """Refuse a window further than this from the elements' epoch (None: no limit)."""
    visibility_step_s: float
    """Step of the sunlit and sky checks along a pass."""


def predict_passes(
    satellite: Elements | Satrec,
    observer: Observer,
    start: datetime,
    end: datetime,
    min_elevation_deg: float = 10.0,
    **options: Unpack[SearchOptions],
) -> list[Pass]:
    """Every pass of one satellite above `min_elevation_deg` that overlaps [start, end]."""
    return predict_many([satellite], observer, start, end, min_elevation_deg, **options)[0]


def predict_many(
    satellites: Sequence[Elements | Satrec],
    observer: Observer,
    start: datetime,
    end: datetime,
    min_elevation_deg: float = 10.0,
    *,
    max_epoch_days: float | None = MAX_EPOCH_DAYS,
    visibility_step_s: float = VISIBILITY_STEP_S,
) -> list[list[Pass]]:
    """The passes of each satellite, in the order given, each list in time order."""
    if not 0.0 <= min_elevation_deg < 90.0:
        raise WindowError(f"minimum elevation {min_elevation_deg} is outside [0, 90) degrees")
    if visibility_step_s <= 0:
        raise WindowError("the visibility step must be positive")
    models = [one.checked_satrec() if isinstance(one, Elements) else one for one in satellites]
    for model in models:
        check_window(epoch_of(model), start, end, max_epoch_days)
    if not models:
        return []

    clock = Clock.at(start)
    station = Station.of(observer)
    window_s = clock.seconds(end)
    margin = min(max(math.tau / m.no_kozai * 60.0 / 2.0 for m in models), _MAX_MARGIN_S)
    grid = np.arange(-margin, window_s + margin + GRID_STEP_S, GRID_STEP_S)
    sun = SunTrack.over(clock, grid)

    results: list[list[Pass]] = []
    for first in range(0, len(models), CHUNK):
        chunk = models[first : first + CHUNK]
        elevations = grid_elevations(chunk, clock, station, grid)
        for model, row in zip(chunk, elevations, strict=True):
            found = [
                one
                for one in find_passes(model, clock, station, grid, row, min_elevation_deg)
                if one.set_s > 0.0 and one.rise_s < window_s
            ]
            results.append(
                _describe(model, found, clock, station, sun, min_elevation_deg, visibility_step_s)
            )
    return results


def _describe(
    model: Satrec,
    found: list[Found],
    clock: Clock,
    station: Station,
    sun: SunTrack,
    threshold: float,
    step_s: float,
) -> list[Pass]:
    if not found:
        return []
    events = np.array([(f.rise_s, f.culmination_s, f.set_s) for f in found]).ravel()
    _, azimuth = station.look(positions(model, clock, events))
    windows = [np.append(np.arange(f.rise_s, f.set_s, step_s), f.set_s) for f in found]
    visible = _visible(model, clock, station, sun, np.concatenate(windows), threshold)

    # Edges of the visible part: (pass, which end) -> bracket (invisible, visible) to refine.
    spans: list[tuple[float, float] | None] = []
    edges: list[tuple[int, int, float, float]] = []
    offset = 0
    for index, window in enumerate(windows):
        seen = np.flatnonzero(visible[offset : offset + len(window)])
        offset += len(window)
        if not seen.size:
            spans.append(None)
            continue
        first, last = int(seen[0]), int(seen[-1])
        spans.append((float(window[first]), float(window[last])))
        if first > 0:
            edges.append((index, 0, float(window[first - 1]), float(window[first])))
        if last < len(window) - 1:
            edges.append((index, 1, float(window[last + 1]), float(window[last])))
    if edges:
        bracket = np.array([(out, inside) for _, _, out, inside in edges])
        refined = _edge(model, clock, station, sun, threshold, bracket[:, 0], bracket[:, 1])
        for (index, end, _, _), moment in zip(edges, refined, strict=True):
            span = spans[index]
            assert span is not None
            spans[index] = (float(moment), span[1]) if end == 0 else (span[0], float(moment))

    passes: list[Pass] = []
    for index, (one, span) in enumerate(zip(found, spans, strict=True)):
        passes.append(
            Pass(
                norad_id=int(model.satnum),
                rise=clock.moment(one.rise_s),
                culmination=clock.moment(one.culmination_s),
                set=clock.moment(one.set_s),
                rise_azimuth_deg=float(azimuth[3 * index]),
                culmination_azimuth_deg=float(azimuth[3 * index + 1]),
                set_azimuth_deg=float(azimuth[3 * index + 2]),
                max_elevation_deg=one.max_elevation_deg,
                visible=span is not None,
                visible_from=None if span is None else clock.moment(span[0]),
                visible_until=None if span is None else clock.moment(span[1]),
            )
        )
    return passes


def _visible(
    model: Satrec, clock: Clock, station: Station, sun: SunTrack, seconds: Any, threshold: float
) -> Any:
    at = positions(model, clock, seconds)
    sun_km = sun.at(seconds)
    elevation, _ = station.look(at)
    sun_altitude, _ = station.look(sun_km)
    # Rise and set lie on the threshold itself; a hair of slack keeps them from rounding out.
    return visible_moments(sunlit(at, sun_km), sun_altitude, elevation, threshold - _EDGE_SLACK_DEG)


def _edge(
    model: Satrec,
    clock: Clock,
    station: Station,
    sun: SunTrack,
    threshold: float,
    outside: Any,
    inside: Any,
) -> Any:
    """Bisection between invisible and visible moments: the edge of the visible part."""
    for _ in range(_EDGE_ITERATIONS):
        mid = (outside + inside) / 2.0
        seen = _visible(model, clock, station, sun, mid, threshold)
        inside = np.where(seen, mid, inside)
        outside = np.where(seen, outside, mid)
    return inside


def as_dict(one: Pass) -> dict[str, Any]:
    """A pass as plain JSON-ready values (RFC 3339 UTC times)."""

    def when(moment: datetime | None) -> str | None:
        return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    return {
        "norad_id": one.norad_id,
        "rise": when(one.rise),
        "culmination": when(one.culmination),
        "set": when(one.set),
        "rise_azimuth_deg": round(one.rise_azimuth_deg, 2),
        "culmination_azimuth_deg": round(one.culmination_azimuth_deg, 2),
        "set_azimuth_deg": round(one.set_azimuth_deg, 2),
        "max_elevation_deg": round(one.max_elevation_deg, 3),
        "duration_s": round(one.duration_s, 1),
        "visible": one.visible,
        "visible_from": when(one.visible_from),
        "visible_until": when(one.visible_until),
    }
