"""The Earth shadow against an independent reference: Skyfield's `is_sunlit` on SGP4 positions.

The reference computes the sun from the JPL DE421 ephemeris that `skyfield-data` ships (nothing
is downloaded) and intersects the sun's ray with the Earth; the enricher has only the geodetic
sub-point and altitude and its own solar formulas. The days are high-beta days (|beta| > 60
degrees) of the bundled TLE's orbit, where the ISS only grazes the shadow and any error in the
Earth model moves the crossings by tens of seconds (a 6371 km sphere gave 99.57 % on both).
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import numpy as np
import pytest
from skyfield.api import EarthSatellite, Loader, load, wgs84
from skyfield_data import get_skyfield_data_path

from iss_physics import geometry
from tests.iss_enricher.fixtures import ISS_TLE

pytestmark = pytest.mark.unit

STEP_S = 5.0
BAND_S = 30.0


def beta_deg(satellite: EarthSatellite, ephemeris: object, moment: object) -> float:
    """Angle between the sun and the orbit plane."""
    at = satellite.at(moment)
    normal = np.cross(at.position.km, at.velocity.km_per_s)
    sun = (ephemeris["sun"] - ephemeris["earth"]).at(moment).position.km  # type: ignore[index]
    sine = normal @ sun / np.linalg.norm(normal) / np.linalg.norm(sun)
    return float(np.degrees(np.arcsin(sine)))


@pytest.fixture(scope="module")
def reference() -> tuple[EarthSatellite, object, object]:
    with warnings.catch_warnings():  # skyfield-data's Earth-orientation file is not used here
        warnings.simplefilter("ignore")
        ephemeris = Loader(get_skyfield_data_path(), expire=False)("de421.bsp")
    timescale = load.timescale(builtin=True)
    return EarthSatellite(*ISS_TLE, "ISS", timescale), ephemeris, timescale


@pytest.mark.parametrize(
    ("day", "sign"),
    [(datetime(2026, 5, 7, tzinfo=UTC), 1), (datetime(2026, 12, 9, tzinfo=UTC), -1)],
)
def test_sunlit_agrees_with_skyfield_outside_thirty_seconds_of_each_crossing_at_high_beta(
    reference: tuple[EarthSatellite, object, object], day: datetime, sign: int
) -> None:
    satellite, ephemeris, timescale = reference
    seconds = np.arange(0.0, 86_400.0, STEP_S)
    times = timescale.utc(day.year, day.month, day.day, 0, 0, seconds)  # type: ignore[attr-defined]
    beta = beta_deg(satellite, ephemeris, times[len(times) // 2])
    assert sign * beta > 60.0

    at = satellite.at(times)
    expected = at.is_sunlit(ephemeris)
    where = wgs84.geographic_position_of(at)
    start = day.timestamp()
    got = np.array(
        [
            geometry.satellite_sunlit(geometry.solar_position_at(start + s), lat, lon, h)
            for s, lat, lon, h in zip(
                seconds,
                where.latitude.degrees.tolist(),
                where.longitude.degrees.tolist(),
                where.elevation.km.tolist(),
                strict=True,
            )
        ]
    )
    crossings = seconds[1:][expected[1:] != expected[:-1]]
    assert len(crossings) >= 10  # the ISS does pass through the shadow on this day
    outside = np.ones(len(seconds), dtype=bool)
    for crossing in crossings:
        outside &= np.abs(seconds - crossing) > BAND_S
    agreement = float(np.mean(got[outside] == expected[outside]))
    assert agreement >= 0.999, f"beta {beta:.1f} deg: {agreement:.5f}"
