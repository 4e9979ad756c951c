"""SGP4 positions of the shipped ISS TLE against an independently computed reference.

Reference: the TEME state vector from the `sgp4` package's own propagator, rotated to the
Earth-fixed frame with the package's own `sgp4.propagation.gstime` (IAU-82 GMST, the angle that
defines TEME), then converted to WGS-84 geodetic coordinates by plain fixed-point iteration on
the latitude (a different algorithm from the Bowring step under test), in scalar `math`.
"""

import math
from datetime import UTC, datetime

import numpy as np
import pytest
from sgp4.propagation import gstime

from iss_physics.teme import ecef_to_geodetic, gmst_radians, julian_date
from iss_physics.tle import find, read_tle_file
from iss_producer.settings import DEFAULT_TLE_FILE
from iss_producer.sources.sgp4_source import propagate

A = 6378.137
F = 1 / 298.257223563
E2 = F * (2 - F)
KM_PER_DEG = 111.2


def reference_geodetic(x: float, y: float, z: float) -> tuple[float, float, float]:
    p = math.hypot(x, y)
    lat = math.atan2(z, p * (1 - E2))
    for _ in range(50):
        n = A / math.sqrt(1 - E2 * math.sin(lat) ** 2)
        height = p / math.cos(lat) - n
        lat = math.atan2(z, p * (1 - E2 * n / (n + height)))
    n = A / math.sqrt(1 - E2 * math.sin(lat) ** 2)
    return math.degrees(lat), math.degrees(math.atan2(y, x)), p / math.cos(lat) - n


def reference_position(when: datetime) -> tuple[float, float, float]:
    record = find(read_tle_file(DEFAULT_TLE_FILE), 25544)
    satrec = record.satrec()
    jd, fr = julian_date(when.timestamp())
    error, r, _v = satrec.sgp4(jd, fr)
    assert error == 0
    theta = gstime(jd + fr)
    x = math.cos(theta) * r[0] + math.sin(theta) * r[1]
    y = -math.sin(theta) * r[0] + math.cos(theta) * r[1]
    return reference_geodetic(x, y, r[2])


def ground_distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


MOMENTS = [
    datetime(2026, 9, 16, 20, 27, 47, tzinfo=UTC),  # the TLE epoch
    datetime(2026, 9, 17, 0, 0, 0, tzinfo=UTC),
    datetime(2026, 9, 17, 6, 13, 20, 500000, tzinfo=UTC),
    datetime(2026, 9, 18, 12, 0, 0, tzinfo=UTC),
]


@pytest.mark.unit
@pytest.mark.parametrize("when", MOMENTS, ids=lambda m: m.isoformat())
def test_sgp4_position_matches_the_reference_within_one_km(when: datetime) -> None:
    fix = propagate(find(read_tle_file(DEFAULT_TLE_FILE), 25544), when)
    lat, lon, height = reference_position(when)
    assert ground_distance_km(fix.latitude, fix.longitude, lat, lon) < 1.0
    assert fix.altitude_km is not None
    assert abs(fix.altitude_km - height) < 1.0


@pytest.mark.unit
def test_sgp4_position_is_physically_an_iss_position() -> None:
    fix = propagate(find(read_tle_file(DEFAULT_TLE_FILE), 25544), MOMENTS[1])
    assert abs(fix.latitude) <= 51.7
    assert fix.altitude_km is not None
    assert 400 < fix.altitude_km < 440
    assert fix.velocity_kmh is not None
    assert 27_400 < fix.velocity_kmh < 27_800  # inertial speed, ~7.66 km/s
    assert fix.event_time == MOMENTS[1]
    assert fix.source == "sgp4"


@pytest.mark.unit
def test_gmst_agrees_with_the_sgp4_package() -> None:
    jd, fr = julian_date(datetime(2026, 11, 21, 15, 4, 5, tzinfo=UTC).timestamp())
    assert float(gmst_radians(jd, fr)) == pytest.approx(gstime(jd + fr), abs=1e-9)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("ecef", "expected"),
    [
        ((A + 400.0, 0.0, 0.0), (0.0, 0.0, 400.0)),
        ((0.0, -(A + 10.0), 0.0), (0.0, -90.0, 10.0)),
        ((0.0, 0.0, A * (1 - F) + 420.0), (90.0, 0.0, 420.0)),
    ],
)
def test_geodetic_conversion_on_the_axes(
    ecef: tuple[float, float, float], expected: tuple[float, float, float]
) -> None:
    lat, lon, height = ecef_to_geodetic(np.array([ecef]))
    assert float(lat[0]) == pytest.approx(expected[0], abs=1e-9)
    assert float(lon[0]) == pytest.approx(expected[1], abs=1e-9)
    assert float(height[0]) == pytest.approx(expected[2], abs=1e-6)


@pytest.mark.unit
def test_julian_date_of_the_unix_epoch() -> None:
    assert julian_date(0.0) == (2440587.5, 0.0)
    assert julian_date(86400.0 * 1.25) == (2440588.5, 0.25)
