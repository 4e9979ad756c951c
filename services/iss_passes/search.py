"""The pass search: a coarse grid for every satellite at once, then bisection per satellite.

1. SGP4 (`SatrecArray`, all satellites in one call) on a grid every `GRID_STEP_S` seconds.
2. Every local maximum of elevation on the grid that could hide a peak above the threshold
   (within `PEAK_SLACK_DEG`: a satellite overhead climbs at most about 1.1 degrees a second, so
   a 60 s grid can miss the top by up to 33 degrees) is refined by bisection on the sign of the
   elevation's slope, to a quarter of a second, then fitted.
3. Peaks that reach the threshold are passes; rise and set are bracketed on the grid on either
   side of the peak and found by bisection and a final linear interpolation (to milliseconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sgp4.api import Satrec, SatrecArray

from iss_passes.clock import Clock
from iss_passes.geometry import Station, earth_fixed

GRID_STEP_S = 60.0
PEAK_SLACK_DEG = 40.0
_PEAK_ITERATIONS = 9
_CROSSING_ITERATIONS = 8
_SLOPE_HALF_STEP_S = 0.05


@dataclass(frozen=True, slots=True)
class Found:
    """One pass of one satellite, in seconds from the clock's anchor."""

    rise_s: float
    culmination_s: float
    set_s: float
    max_elevation_deg: float


def positions(model: Satrec, clock: Clock, seconds: Any) -> Any:
    """Earth-fixed positions (n, 3) in km of one satellite; NaN where SGP4 fails."""
    jd, fraction = clock.utc(seconds)
    error, teme, _ = model.sgp4_array(jd, fraction)
    teme[error != 0] = np.nan
    return earth_fixed(teme, clock, seconds)


def grid_elevations(models: Sequence[Satrec], clock: Clock, station: Station, grid: Any) -> Any:
    """Elevation in degrees shaped (satellites, grid)."""
    jd, fraction = clock.utc(grid)
    error, teme, _ = SatrecArray(list(models)).sgp4(jd, fraction)
    teme[error != 0] = np.nan
    return station.altitude_of(earth_fixed(teme, clock, grid))


def _elevation(model: Satrec, clock: Clock, station: Station, seconds: Any) -> Any:
    return station.altitude_of(positions(model, clock, seconds))


def _peaks(model: Satrec, clock: Clock, station: Station, lo: Any, hi: Any) -> tuple[Any, Any]:
    h = _SLOPE_HALF_STEP_S
    for _ in range(_PEAK_ITERATIONS):
        mid = (lo + hi) / 2.0
        ahead, behind = np.split(
            _elevation(model, clock, station, np.concatenate((mid + h, mid - h))), 2
        )
        rising = ahead > behind
        lo = np.where(rising, mid, lo)
        hi = np.where(rising, hi, mid)
    # A parabola through the bracket's ends and middle places the top between them.
    mid = (lo + hi) / 2.0
    f_lo, f_mid, f_hi = np.split(
        _elevation(model, clock, station, np.concatenate((lo, mid, hi))), 3
    )
    curvature = f_lo - 2.0 * f_mid + f_hi
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curvature < 0, (f_lo - f_hi) / (2.0 * curvature) * (hi - lo) / 2.0, 0.0)
    top = mid + np.clip(shift, -(hi - lo) / 2.0, (hi - lo) / 2.0)
    return top, _elevation(model, clock, station, top)


def _crossings(
    model: Satrec, clock: Clock, station: Station, a: Any, b: Any, threshold: float
) -> Any:
    f_a = _elevation(model, clock, station, a) - threshold
    f_b = _elevation(model, clock, station, b) - threshold
    for _ in range(_CROSSING_ITERATIONS):
        mid = (a + b) / 2.0
        f_mid = _elevation(model, clock, station, mid) - threshold
        same = np.sign(f_mid) == np.sign(f_a)
        a, f_a = np.where(same, mid, a), np.where(same, f_mid, f_a)
        b, f_b = np.where(same, b, mid), np.where(same, f_b, f_mid)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(f_b != f_a, f_a / (f_a - f_b), 0.5)
    return a + np.clip(weight, 0.0, 1.0) * (b - a)


def find_passes(
    model: Satrec,
    clock: Clock,
    station: Station,
    grid: Any,
    elevations: Any,
    threshold: float,
) -> list[Found]:
    """The passes of one satellite whose grid elevations are `elevations` (len(grid),)."""
    el = elevations
    inner = np.flatnonzero(
        (el[1:-1] > el[:-2]) & (el[1:-1] >= el[2:]) & (el[1:-1] > threshold - PEAK_SLACK_DEG)
    )
    if inner.size == 0:
        return []
    top, top_el = _peaks(model, clock, station, grid[inner], grid[inner + 2])
    keep = top_el >= threshold
    top, top_el = top[keep], top_el[keep]
    below = np.flatnonzero(~(el >= threshold))  # NaN counts as below
    rises: list[tuple[float, float]] = []
    sets: list[tuple[float, float]] = []
    peaks: list[tuple[float, float]] = []
    for t, value in zip(top, top_el, strict=True):
        before = below[grid[below] < t]
        after = below[grid[below] > t]
        if before.size == 0 or after.size == 0:
            continue  # under way at an end of the grid: not whole
        j, k = before[-1], after[0]
        rises.append((grid[j], min(grid[j + 1], t)))
        sets.append((max(grid[k - 1], t), grid[k]))
        peaks.append((t, value))
    if not peaks:
        return []
    brackets = np.array(rises + sets)
    times = _crossings(model, clock, station, brackets[:, 0], brackets[:, 1], threshold)
    rise_s, set_s = np.split(times, 2)
    # Several peaks in one pass (possible for high orbits) share a rise: keep the highest.
    best: dict[float, Found] = {}
    for r, s, (t, value) in zip(rise_s, set_s, peaks, strict=True):
        key = round(float(r), 3)
        if key not in best or value > best[key].max_elevation_deg:
            best[key] = Found(float(r), float(t), float(s), float(value))
    return sorted(best.values(), key=lambda found: found.rise_s)
