"""An independent look-angle and visibility computation to check iss_passes against.

Nothing here comes from iss_passes or Skyfield: SGP4 (python `sgp4`) gives TEME positions; the
1982 Greenwich mean sidereal time (Vallado, "Fundamentals of Astrodynamics", gstime) turns them
Earth-fixed; the observer is placed on WGS-84 by the textbook geodetic formula; the Sun is the
Astronomical Almanac's low-precision formula (about 0.01 degrees); the shadow is a cylinder of
the Earth's equatorial radius. Passes come from a scan at 1 s steps.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sgp4.api import Satrec

REPO = Path(__file__).resolve().parents[2]
ISS_TLE = REPO / "services" / "iss_producer" / "data" / "iss-25544-2026-09-16.tle"
START = datetime(2026, 9, 16, 21, 0, tzinfo=UTC)  # half an hour after the TLE's epoch
A_KM, F = 6378.137, 1 / 298.257223563
SUN_LIMIT_DEG = -6.0


def iss_lines() -> tuple[str, str]:
    lines = [line for line in ISS_TLE.read_text().splitlines() if line.strip()]
    return lines[1], lines[2]


def polar_lines() -> tuple[str, str]:
    """The ISS elements tilted into a sun-synchronous-like orbit: 97.6 degrees, 14.9 rev/day.

    Every pass over a high-latitude site, many of them low and short, so the search's grid and
    its refinement of grazing peaks are exercised."""
    line1, line2 = iss_lines()
    line2 = line2[:8] + " 97.6000" + line2[16:52] + "14.90000000" + line2[63:]
    return line1, _with_checksum(line2)


def _with_checksum(line: str) -> str:
    total = sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68])
    return line[:68] + str(total % 10)


def gmst_rad(jd_ut1: np.ndarray) -> np.ndarray:
    t = (jd_ut1 - 2451545.0) / 36525.0
    seconds = (
        -6.2e-6 * t**3 + 0.093104 * t**2 + (876600.0 * 3600 + 8640184.812866) * t + 67310.54841
    )
    return np.radians(seconds / 240.0) % (2 * math.pi)


def _ecef(teme: np.ndarray, jd: np.ndarray) -> np.ndarray:
    g = gmst_rad(jd)
    c, s = np.cos(g), np.sin(g)
    return np.stack(
        [c * teme[:, 0] + s * teme[:, 1], -s * teme[:, 0] + c * teme[:, 1], teme[:, 2]], 1
    )


@dataclass(frozen=True)
class Site:
    lat: float
    lon: float
    height_m: float

    def ecef_km(self) -> np.ndarray:
        phi, lam = math.radians(self.lat), math.radians(self.lon)
        e2 = F * (2 - F)
        n = A_KM / math.sqrt(1 - e2 * math.sin(phi) ** 2)
        h = self.height_m / 1000.0
        return np.array(
            [
                (n + h) * math.cos(phi) * math.cos(lam),
                (n + h) * math.cos(phi) * math.sin(lam),
                (n * (1 - e2) + h) * math.sin(phi),
            ]
        )

    def enu(self, vectors: np.ndarray) -> np.ndarray:
        phi, lam = math.radians(self.lat), math.radians(self.lon)
        rotation = np.array(
            [
                [-math.sin(lam), math.cos(lam), 0.0],
                [-math.sin(phi) * math.cos(lam), -math.sin(phi) * math.sin(lam), math.cos(phi)],
                [math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)],
            ]
        )
        return vectors @ rotation.T


def sun_ecef_unit(jd: np.ndarray) -> np.ndarray:
    n = jd - 2451545.0
    mean_lon = np.radians(280.460 + 0.9856474 * n)
    anomaly = np.radians(357.528 + 0.9856003 * n)
    ecliptic = mean_lon + np.radians(1.915 * np.sin(anomaly) + 0.020 * np.sin(2 * anomaly))
    obliquity = np.radians(23.439 - 4e-7 * n)
    eq = np.stack(
        [
            np.cos(ecliptic),
            np.cos(obliquity) * np.sin(ecliptic),
            np.sin(obliquity) * np.sin(ecliptic),
        ],
        1,
    )
    return _ecef(eq, jd)


@dataclass(frozen=True)
class RefPass:
    rise: datetime
    culmination: datetime
    set: datetime
    rise_az: float
    set_az: float
    max_el: float
    visible: bool
    visible_from: datetime | None
    visible_until: datetime | None


def _between(a: float, b: float, fraction: float) -> float:
    """Azimuth a fraction of the way from a to b, across north if that is shorter."""
    return float((a + fraction * ((b - a + 180.0) % 360.0 - 180.0)) % 360.0)


def scan(
    site: Site,
    start: datetime,
    hours: float,
    min_el: float,
    lines: tuple[str, str] | None = None,
) -> list[RefPass]:
    """Passes above `min_el` whose rise and set both fall inside the window, from 1 s steps."""
    model = Satrec.twoline2rv(*(lines or iss_lines()))
    seconds = np.arange(0.0, hours * 3600 + 1)
    jd0 = 2440587.5 + (start - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() / 86400
    fr = seconds / 86400.0
    error, teme, _ = model.sgp4_array(np.full_like(fr, jd0), fr)
    assert not error.any()
    jd = jd0 + fr
    sat = _ecef(teme, jd)
    local = site.enu(sat - site.ecef_km())
    el = np.degrees(np.arctan2(local[:, 2], np.hypot(local[:, 0], local[:, 1])))
    az = np.degrees(np.arctan2(local[:, 0], local[:, 1])) % 360
    sun = sun_ecef_unit(jd)
    sun_alt = np.degrees(np.arcsin(site.enu(sun)[:, 2]))
    along = (sat * sun).sum(1)
    off_axis = np.linalg.norm(sat - along[:, None] * sun, axis=1)
    lit = ~((along < 0) & (off_axis < A_KM))

    def at(s: float) -> datetime:
        return start + timedelta(seconds=float(s))

    above = el >= min_el
    edges = np.flatnonzero(np.diff(above.astype(int)))
    passes: list[RefPass] = []
    for i, j in itertools.pairwise(edges):
        if above[i] or not above[i + 1]:
            continue  # i must be a rise
        # Linear interpolation between the 1 s samples on either side of each crossing.
        rise = i + (min_el - el[i]) / (el[i + 1] - el[i])
        set_ = j + (el[j] - min_el) / (el[j] - el[j + 1])
        inside = slice(i + 1, j + 1)
        k = i + 1 + int(np.argmax(el[inside]))
        # A parabola through the top three samples.
        y0, y1, y2 = el[k - 1], el[k], el[k + 1]
        peak = k + 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)
        seen = np.flatnonzero(lit[inside] & (sun_alt[inside] < SUN_LIMIT_DEG)) + i + 1
        passes.append(
            RefPass(
                rise=at(rise),
                culmination=at(peak),
                set=at(set_),
                rise_az=_between(az[i], az[i + 1], rise - i),
                set_az=_between(az[j], az[j + 1], set_ - j),
                max_el=float(y1 - (y0 - y2) ** 2 / (8 * (y0 - 2 * y1 + y2))),
                visible=bool(seen.size),
                visible_from=at(seen[0]) if seen.size else None,
                visible_until=at(seen[-1]) if seen.size else None,
            )
        )
    return passes
