"""Inputs shared by the enricher tests: bad records of every class and known tracks."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sgp4.api import Satrec, jday

from iss_contract.deadletter import Reason
from iss_contract.raw import RawPosition

# ISS (ZARYA) element set of 2026-09-16 (epoch 26259.85263506).
ISS_TLE = (
    "1 25544U 98067A   26259.85263506  .00007068  00000+0  13566-3 0  9993",
    "2 25544  51.6307 206.4210 0004838 147.2470 212.8820 15.49143506585961",
)
TLE_EPOCH = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=259.85263506 - 1)

WGS84_A = 6378.137
WGS84_F = 1 / 298.257223563


def raw_document(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "schema": "iss.position.raw/v1",
        "norad_id": 25544,
        "name": "ISS (ZARYA)",
        "event_time": "2026-09-16T12:00:00.000000Z",
        "latitude": 51.2,
        "longitude": -12.5,
        "altitude_km": 418.2,
        "velocity_kmh": None,
        "visibility": None,
        "footprint_km": None,
        "source": "sgp4",
        "producer_id": "test",
        "sequence": 1,
        "produced_at": "2026-09-16T12:00:00.100000Z",
    }
    document.update(overrides)
    return document


def encode(document: object) -> bytes:
    return json.dumps(document).encode()


def bad_records() -> dict[Reason, bytes]:
    """One record of every rejection class, keyed by the reason it must be rejected with."""
    missing = raw_document()
    del missing["latitude"]
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        Reason.INVALID_JSON: b"<html>502 Bad Gateway</html>",
        Reason.NOT_AN_OBJECT: b"[25544, 51.2, -12.5]",
        Reason.UNKNOWN_SCHEMA: encode(raw_document(schema="iss.position.raw/v0")),
        Reason.MISSING_FIELD: encode(missing),
        Reason.WRONG_TYPE: encode(raw_document(latitude="51.2")),
        Reason.OUT_OF_RANGE: encode(raw_document(latitude=91.0)),
        Reason.BAD_TIMESTAMP: encode(raw_document(event_time="yesterday")),
        Reason.FUTURE_TIMESTAMP: encode(raw_document(event_time=future)),
    }


@dataclass(frozen=True)
class TrackPoint:
    """A position with the reference values computed independently of the enricher."""

    position: RawPosition
    inertial_speed_kmh: float
    ecef_km: tuple[float, float, float]


def _gmst_rad(moment: datetime) -> float:
    # IAU 1982 GMST (Vallado, Fundamentals of Astrodynamics, eq. 3-47), UT1 ~ UTC.
    jd = 2440587.5 + moment.timestamp() / 86400.0
    t = (jd - 2451545.0) / 36525.0
    seconds = 67310.54841 + (876600.0 * 3600.0 + 8640184.812866) * t + 0.093104 * t * t
    seconds -= 6.2e-6 * t**3
    return math.radians((seconds % 86400.0) / 240.0)


def _geodetic(x: float, y: float, z: float) -> tuple[float, float, float]:
    e2 = WGS84_F * (2 - WGS84_F)
    lon = math.atan2(y, x)
    p = math.hypot(x, y)
    lat = math.atan2(z, p * (1 - e2))
    height = 0.0
    for _ in range(6):
        n = WGS84_A / math.sqrt(1 - e2 * math.sin(lat) ** 2)
        height = p / math.cos(lat) - n
        lat = math.atan2(z, p * (1 - e2 * n / (n + height)))
    return math.degrees(lat), math.degrees(lon), height


def sgp4_track(
    start: datetime, count: int, step_s: float, norad_id: int = 25544
) -> list[TrackPoint]:
    """ISS sub-points propagated with SGP4 (TEME rotated to Earth-fixed by GMST)."""
    satellite = Satrec.twoline2rv(*ISS_TLE)
    points: list[TrackPoint] = []
    for i in range(count):
        moment = start + timedelta(seconds=i * step_s)
        jd, fr = jday(
            moment.year,
            moment.month,
            moment.day,
            moment.hour,
            moment.minute,
            moment.second + moment.microsecond / 1e6,
        )
        error, r, v = satellite.sgp4(jd, fr)
        assert error == 0
        theta = _gmst_rad(moment)
        c, s = math.cos(theta), math.sin(theta)
        x, y, z = c * r[0] + s * r[1], -s * r[0] + c * r[1], r[2]
        lat, lon, height = _geodetic(x, y, z)
        position = RawPosition(
            norad_id=norad_id,
            event_time=moment,
            latitude=lat,
            longitude=lon,
            source="sgp4",
            producer_id="test",
            sequence=i,
            produced_at=moment,
            name="ISS (ZARYA)",
            altitude_km=height,
        )
        speed = math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2) * 3600.0
        points.append(TrackPoint(position, speed, (x, y, z)))
    return points


def great_circle_track(
    norad_id: int,
    start: datetime,
    pole: tuple[float, float, float],
    origin: tuple[float, float, float],
    count: int,
    step_deg: float = 0.0625,
) -> Iterator[RawPosition]:
    """Points along the great circle through `origin` about the unit axis `pole`, 1 s apart.

    0.0625 degrees of arc per second is 25,019 km/h over a 6371 km sphere.
    """
    ox, oy, oz = origin
    px, py, pz = pole
    # b = pole x origin completes the orthonormal basis of the circle's plane.
    bx, by, bz = py * oz - pz * oy, pz * ox - px * oz, px * oy - py * ox
    for i in range(count):
        a = math.radians(i * step_deg)
        x = math.cos(a) * ox + math.sin(a) * bx
        y = math.cos(a) * oy + math.sin(a) * by
        z = math.cos(a) * oz + math.sin(a) * bz
        lat = math.degrees(math.asin(max(-1.0, min(1.0, z))))
        lon = math.degrees(math.atan2(y, x))
        if lon >= 180.0:
            lon -= 360.0
        yield RawPosition(
            norad_id=norad_id,
            event_time=start + timedelta(seconds=i),
            latitude=lat,
            longitude=lon,
            source="sgp4",
            producer_id="test",
            sequence=i,
            produced_at=start + timedelta(seconds=i),
            altitude_km=420.0,
        )


def unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    phi, lam = math.radians(lat), math.radians(lon)
    return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))


def central_angle_km(a: RawPosition, b: RawPosition) -> float:
    """Great-circle distance by the vector cross/dot formula (independent of haversine)."""
    u = unit_vector(a.latitude, a.longitude)
    w = unit_vector(b.latitude, b.longitude)
    cross = (u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0])
    dot = u[0] * w[0] + u[1] * w[1] + u[2] * w[2]
    return 6371.0 * math.atan2(math.sqrt(sum(c * c for c in cross)), dot)


def low_precision_sun_elevation(moment: datetime, lat: float, lon: float) -> float:
    """Sun elevation from the Astronomical Almanac's low-precision formulae (about 0.01 deg)."""
    n = 2440587.5 + moment.timestamp() / 86400.0 - 2451545.0
    mean_long = math.radians((280.460 + 0.9856474 * n) % 360.0)
    g = math.radians((357.528 + 0.9856003 * n) % 360.0)
    ecl = mean_long + math.radians(1.915 * math.sin(g) + 0.020 * math.sin(2 * g))
    eps = math.radians(23.439 - 0.0000004 * n)
    ra = math.atan2(math.cos(eps) * math.sin(ecl), math.cos(ecl))
    dec = math.asin(math.sin(eps) * math.sin(ecl))
    hour_angle = _gmst_rad(moment) + math.radians(lon) - ra
    phi = math.radians(lat)
    sin_el = math.sin(phi) * math.sin(dec) + math.cos(phi) * math.cos(dec) * math.cos(hour_angle)
    return math.degrees(math.asin(sin_el))
