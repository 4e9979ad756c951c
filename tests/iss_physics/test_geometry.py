"""Geometry and solar position against independent reference values."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from iss_physics import geometry

pytestmark = pytest.mark.unit

ONE_DEGREE_KM = 6371.0 * math.pi / 180.0  # 111.195 km of great circle per degree


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_one_degree_along_the_equator_is_111_km() -> None:
    assert geometry.haversine_km(0.0, 10.0, 0.0, 11.0) == pytest.approx(ONE_DEGREE_KM, rel=1e-9)


def test_distance_across_the_antimeridian_is_the_short_way_round() -> None:
    assert geometry.haversine_km(0.0, 179.5, 0.0, -179.5) == pytest.approx(ONE_DEGREE_KM, rel=1e-9)


def test_distance_over_the_pole_is_the_arc_through_the_pole() -> None:
    assert geometry.haversine_km(89.5, 0.0, 89.5, 180.0) == pytest.approx(ONE_DEGREE_KM, rel=1e-9)


def test_london_to_paris_matches_the_published_great_circle_distance() -> None:
    # 343.5 km on a 6371 km sphere (e.g. the Movable Type haversine calculator).
    distance = geometry.haversine_km(51.5074, -0.1278, 48.8566, 2.3522)
    assert distance == pytest.approx(343.5, abs=0.5)


@pytest.mark.parametrize(
    ("lon1", "lon2", "expected"),
    [(179.5, -179.5, 90.0), (-179.5, 179.5, 270.0), (10.0, 11.0, 90.0), (11.0, 10.0, 270.0)],
)
def test_heading_along_the_equator_is_east_or_west_even_across_the_antimeridian(
    lon1: float, lon2: float, expected: float
) -> None:
    assert geometry.initial_bearing_deg(0.0, lon1, 0.0, lon2) == pytest.approx(expected, abs=1e-9)


def test_heading_over_the_pole_is_north() -> None:
    assert geometry.initial_bearing_deg(89.5, 0.0, 89.5, 180.0) == pytest.approx(0.0, abs=1e-6)


def test_heading_is_always_in_zero_to_360() -> None:
    bearing = geometry.initial_bearing_deg(0.0, 0.0, -1e-15, 0.0)
    assert 0.0 <= bearing < 360.0


def test_longitude_normalisation_is_half_open_at_plus_180() -> None:
    assert geometry.normalise_longitude(180.0) == -180.0
    assert geometry.normalise_longitude(-180.0) == -180.0
    assert geometry.normalise_longitude(359.0) == pytest.approx(-1.0)
    assert geometry.normalise_longitude(-190.0) == pytest.approx(170.0)


def test_footprint_radius_at_420_km_is_about_2200_km() -> None:
    # Tangent line from 6791 km meets the 6371 km sphere at arccos(6371/6791) = 0.35354 rad.
    assert geometry.footprint_radius_km(420.0) == pytest.approx(2252.4, abs=0.5)


def test_circular_orbital_speed_of_the_iss_is_about_27600_kmh() -> None:
    # sqrt(398600.4418 / 6798.137) = 7.6571 km/s = 27,566 km/h over the equator at 420 km.
    speed = geometry.circular_orbital_speed_kmh(420.0, 0.0)
    assert speed == pytest.approx(27566.0, abs=5.0)


def test_orbital_speed_uses_the_ellipsoid_radius_at_the_latitude() -> None:
    assert geometry.ellipsoid_radius_km(0.0) == pytest.approx(6378.137)
    assert geometry.ellipsoid_radius_km(90.0) == pytest.approx(6356.752, abs=1e-3)
    assert geometry.circular_orbital_speed_kmh(420.0, 51.6) > geometry.circular_orbital_speed_kmh(
        420.0, 0.0
    )


@pytest.mark.parametrize(
    ("moment", "declination"),
    [
        ("2024-03-20T03:06:00", 0.0),  # March equinox 03:06 UT
        ("2024-06-20T20:51:00", 23.44),  # June solstice 20:51 UT
        ("2024-09-22T12:44:00", 0.0),  # September equinox 12:44 UT
        ("2024-12-21T09:21:00", -23.44),  # December solstice 09:21 UT
    ],
)
def test_subsolar_latitude_is_the_declination_at_equinoxes_and_solstices(
    moment: str, declination: float
) -> None:
    sun = geometry.solar_position(at(moment))
    assert sun.subsolar_latitude == pytest.approx(declination, abs=0.02)


@pytest.mark.parametrize(
    ("moment", "minutes"),
    [("2025-02-11T12:00:00", -14.2), ("2025-11-03T12:00:00", 16.4), ("2025-04-15T12:00:00", 0.0)],
)
def test_equation_of_time_matches_the_almanac_extremes(moment: str, minutes: float) -> None:
    assert geometry.solar_position(at(moment)).equation_of_time_min == pytest.approx(
        minutes, abs=0.3
    )


def test_subsolar_longitude_at_noon_ut_is_offset_by_the_equation_of_time() -> None:
    # Sundials run 14.2 min slow on 11 February: the sun crosses Greenwich at 12:14 UT, so at
    # 12:00 UT it is overhead 14.2 / 4 = 3.55 degrees east.
    sun = geometry.solar_position(at("2025-02-11T12:00:00"))
    assert sun.subsolar_longitude == pytest.approx(3.55, abs=0.1)


def test_subsolar_longitude_wraps_into_minus_180_to_180() -> None:
    sun = geometry.solar_position(at("2025-06-01T00:00:00"))
    assert -180.0 <= sun.subsolar_longitude < 180.0
    assert abs(sun.subsolar_longitude) > 170.0


def test_local_solar_time_is_noon_at_the_subsolar_point_and_midnight_opposite() -> None:
    sun = geometry.solar_position(at("2025-08-01T07:30:00"))
    assert geometry.local_solar_time_h(sun, sun.subsolar_longitude) == pytest.approx(12.0, abs=1e-9)
    opposite = geometry.normalise_longitude(sun.subsolar_longitude + 180.0)
    lst = geometry.local_solar_time_h(sun, opposite)
    assert min(lst, 24.0 - lst) == pytest.approx(0.0, abs=1e-9)


def test_ground_is_in_daylight_under_the_sun_and_dark_at_the_antipode() -> None:
    sun = geometry.solar_position(at("2025-08-01T07:30:00"))
    lat, lon = sun.subsolar_latitude, sun.subsolar_longitude
    assert geometry.ground_daylight(sun, lat, lon)
    assert geometry.sun_elevation_deg(sun, lat, lon) == pytest.approx(90.0, abs=1e-6)
    assert not geometry.ground_daylight(sun, -lat, geometry.normalise_longitude(lon + 180.0))


def test_iss_stays_sunlit_while_its_ground_point_is_ten_degrees_past_the_terminator() -> None:
    sun = geometry.solar_position(at("2024-03-20T03:06:00"))  # equinox: terminator is a meridian
    lon = geometry.normalise_longitude(sun.subsolar_longitude + 100.0)
    assert geometry.sun_elevation_deg(sun, 0.0, lon) == pytest.approx(-10.0, abs=0.05)
    assert not geometry.ground_daylight(sun, 0.0, lon)
    assert geometry.satellite_sunlit(sun, 0.0, lon, 420.0)


def test_iss_is_eclipsed_once_its_ground_point_is_25_degrees_past_the_terminator() -> None:
    # The shadow edge at 420 km lies arccos(6371 / 6791) = 20.3 degrees past the terminator.
    sun = geometry.solar_position(at("2024-03-20T03:06:00"))
    assert not geometry.satellite_sunlit(
        sun, 0.0, geometry.normalise_longitude(sun.subsolar_longitude + 115.0), 420.0
    )
    assert geometry.satellite_sunlit(
        sun, 0.0, geometry.normalise_longitude(sun.subsolar_longitude + 110.0), 420.0
    )


@pytest.mark.parametrize(
    ("lat1", "lon1", "lat2", "lon2"),
    [
        (0.0, 179.9, 0.0, -179.9),
        (89.9, 0.0, 89.9, 180.0),
        (51.5, -0.1, 48.9, 2.35),
        (-30, 10, -29, 12),
    ],
)
def test_the_combined_track_step_agrees_with_haversine_and_bearing(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    distance, bearing = geometry.track_step(lat1, lon1, lat2, lon2)
    assert distance == pytest.approx(geometry.haversine_km(lat1, lon1, lat2, lon2), rel=1e-12)
    assert bearing == pytest.approx(geometry.initial_bearing_deg(lat1, lon1, lat2, lon2), abs=1e-9)


def test_illumination_without_altitude_leaves_sunlit_unknown() -> None:
    sun = geometry.solar_position(at("2024-03-20T03:06:00"))
    daylight, sunlit = geometry.illumination(sun, 0.0, sun.subsolar_longitude, None)
    assert daylight is True
    assert sunlit is None


@pytest.mark.parametrize("altitude", [None, 0.0, -5.0, 420.0, 35786.0])
def test_the_combined_point_fields_agree_with_the_separate_functions(
    altitude: float | None,
) -> None:
    for hours in range(0, 24 * 365, 97):
        sun = geometry.solar_position(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=hours))
        for latitude, longitude in ((0.0, 0.0), (51.5, -0.1), (-89.9, 179.9), (89.0, -180.0)):
            daylight, sunlit = geometry.illumination(sun, latitude, longitude, altitude)
            assert geometry.point_fields(sun, latitude, longitude, altitude) == (
                daylight,
                sunlit,
                None
                if altitude is None
                else geometry.circular_orbital_speed_kmh(altitude, latitude),
                geometry.local_solar_time_h(sun, longitude),
                None if altitude is None else geometry.footprint_radius_km(altitude),
            )
