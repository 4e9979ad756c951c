"""Geometry and solar position for one sub-satellite point.

Distances along the ground (haversine, footprint) use a sphere of the mean radius; where the
satellite is in space (its Earth shadow, its orbital speed) uses the WGS-84 ellipsoid.

Pure functions, angles in degrees unless a name says otherwise. The formulas and their sources
are written out in docs/enricher.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

EARTH_MEAN_RADIUS_KM = 6371.0
"""Mean Earth radius (IUGG), used for haversine, footprint and the shadow cylinder."""

WGS84_A_KM = 6378.137
"""WGS-84 equatorial radius."""

WGS84_B_KM = 6356.752314245
"""WGS-84 polar radius."""

WGS84_E2 = 1.0 - (WGS84_B_KM / WGS84_A_KM) ** 2
"""WGS-84 first eccentricity squared."""

SHADOW_RADIUS_KM = WGS84_A_KM
"""Radius of the Earth's cylindrical shadow: the equatorial radius. The ellipsoid's own shadow
is up to 21 km narrower towards the poles, but the atmosphere widens the real shadow by about
as much, and high-beta passes graze the shadow at high latitudes, where that difference moves
the crossings by tens of seconds; the reference (Skyfield's `is_sunlit`) uses this sphere too."""

EARTH_MU_KM3_S2 = 398600.4418
"""Standard gravitational parameter of the Earth (WGS-84 / IERS), km^3/s^2."""

_UNIX_EPOCH_JD = 2440587.5
_J2000_JD = 2451545.0


def normalise_longitude(degrees: float) -> float:
    """Wrap an angle to [-180, 180)."""
    return (degrees + 180.0) % 360.0 - 180.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of radius 6371 km; safe across the antimeridian."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dphi = phi2 - phi1
    dlam = math.radians(normalise_longitude(lon2 - lon1))
    a = math.sin(dphi / 2.0) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2.0) ** 2
    return 2.0 * EARTH_MEAN_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def initial_bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial great-circle bearing from point 1 to point 2, [0, 360) clockwise from north."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dlam = math.radians(normalise_longitude(lon2 - lon1))
    y = math.sin(dlam) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlam)
    bearing = math.degrees(math.atan2(y, x)) % 360.0
    # -0.0 % 360 is 0.0, but a tiny negative angle rounds up to exactly 360.0.
    return 0.0 if bearing >= 360.0 else bearing


def track_step(lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[float, float]:
    """(haversine distance in km, initial bearing in degrees) in one pass over the trigonometry."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dlam = math.radians(normalise_longitude(lon2 - lon1))
    cos1, cos2 = math.cos(phi1), math.cos(phi2)
    sin1, sin2 = math.sin(phi1), math.sin(phi2)
    a = math.sin((phi2 - phi1) / 2.0) ** 2 + cos1 * cos2 * math.sin(dlam / 2.0) ** 2
    distance = 2.0 * EARTH_MEAN_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))
    y = math.sin(dlam) * cos2
    x = cos1 * sin2 - sin1 * cos2 * math.cos(dlam)
    bearing = math.degrees(math.atan2(y, x)) % 360.0
    return distance, (0.0 if bearing >= 360.0 else bearing)


def ellipsoid_radius_km(latitude: float) -> float:
    """Distance from the Earth's centre to the WGS-84 ellipsoid surface at a latitude."""
    phi = math.radians(latitude)
    a_cos = WGS84_A_KM * math.cos(phi)
    b_sin = WGS84_B_KM * math.sin(phi)
    numerator = (WGS84_A_KM * a_cos) ** 2 + (WGS84_B_KM * b_sin) ** 2
    return math.sqrt(numerator / (a_cos**2 + b_sin**2))


def circular_orbital_speed_kmh(altitude_km: float, latitude: float) -> float:
    """Vis-viva speed of a circular orbit, v = sqrt(mu / r), with r = ellipsoid radius + h."""
    r = ellipsoid_radius_km(latitude) + altitude_km
    return math.sqrt(EARTH_MU_KM3_S2 / r) * 3600.0


def footprint_radius_km(altitude_km: float) -> float:
    """Ground radius of the horizon circle seen from altitude h: R * arccos(R / (R + h))."""
    if altitude_km <= 0.0:
        return 0.0
    r = EARTH_MEAN_RADIUS_KM
    return r * math.acos(r / (r + altitude_km))


@dataclass(frozen=True, slots=True)
class SolarPosition:
    """Where the sun is overhead at one instant, and the equation of time."""

    subsolar_latitude: float
    """Latitude of the sub-solar point: the solar declination, degrees."""
    subsolar_longitude: float
    """Longitude of the sub-solar point, degrees east in [-180, 180)."""
    equation_of_time_min: float
    """Apparent minus mean solar time, minutes."""
    ut_hours: float
    """Universal time of day, hours."""
    sin_declination: float
    cos_declination: float


def solar_position(moment: datetime) -> SolarPosition:
    """Sub-solar point and equation of time (NOAA solar calculator, after Meeus ch. 25 and 28)."""
    return solar_position_at(moment.timestamp())


@lru_cache(maxsize=4096)
def solar_position_at(timestamp: float) -> SolarPosition:
    """`solar_position` of a unix time; cached, as a catalogue reports many objects per second."""
    t = (_UNIX_EPOCH_JD + timestamp / 86400.0 - _J2000_JD) / 36525.0
    mean_long = (280.46646 + t * (36000.76983 + t * 0.0003032)) % 360.0
    mean_anom = 357.52911 + t * (35999.05029 - 0.0001537 * t)
    ecc = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
    m = math.radians(mean_anom)
    centre = (
        math.sin(m) * (1.914602 - t * (0.004817 + 0.000014 * t))
        + math.sin(2.0 * m) * (0.019993 - 0.000101 * t)
        + math.sin(3.0 * m) * 0.000289
    )
    true_long = mean_long + centre
    omega = math.radians(125.04 - 1934.136 * t)
    apparent_long = math.radians(true_long - 0.00569 - 0.00478 * math.sin(omega))
    arcsec = 21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))
    mean_obliq = 23.0 + (26.0 + arcsec / 60.0) / 60.0
    obliq = math.radians(mean_obliq + 0.00256 * math.cos(omega))
    declination = math.degrees(math.asin(math.sin(obliq) * math.sin(apparent_long)))

    y = math.tan(obliq / 2.0) ** 2
    l0 = math.radians(mean_long)
    eot_rad = (
        y * math.sin(2.0 * l0)
        - 2.0 * ecc * math.sin(m)
        + 4.0 * ecc * y * math.sin(m) * math.cos(2.0 * l0)
        - 0.5 * y * y * math.sin(4.0 * l0)
        - 1.25 * ecc * ecc * math.sin(2.0 * m)
    )
    eot_min = 4.0 * math.degrees(eot_rad)
    ut_hours = (timestamp % 86400.0) / 3600.0
    # The sun is overhead where apparent solar time is 12:00.
    subsolar_lon = normalise_longitude(-15.0 * (ut_hours - 12.0 + eot_min / 60.0))
    dec = math.radians(declination)
    return SolarPosition(declination, subsolar_lon, eot_min, ut_hours, math.sin(dec), math.cos(dec))


def local_solar_time_h(sun: SolarPosition, longitude: float) -> float:
    """Apparent local solar time at a longitude, hours in [0, 24)."""
    hours = (sun.ut_hours + longitude / 15.0 + sun.equation_of_time_min / 60.0) % 24.0
    return 0.0 if hours >= 24.0 else hours


def _cos_angle_to_subsolar(sun: SolarPosition, latitude: float, longitude: float) -> float:
    """Cosine of the arc from a ground point to the sub-solar point: the sine of the sun's
    elevation there, and the component of the point's direction along the sun's."""
    phi = math.radians(latitude)
    hour_angle = math.radians(longitude - sun.subsolar_longitude)
    cos_arc = math.sin(phi) * sun.sin_declination + math.cos(phi) * sun.cos_declination * math.cos(
        hour_angle
    )
    return max(-1.0, min(1.0, cos_arc))


def sun_elevation_deg(sun: SolarPosition, latitude: float, longitude: float) -> float:
    """Geometric elevation of the sun's centre above the horizon at a ground point."""
    return math.degrees(math.asin(_cos_angle_to_subsolar(sun, latitude, longitude)))


def ground_daylight(sun: SolarPosition, latitude: float, longitude: float) -> bool:
    """The sun's centre is above the geometric horizon at the ground point."""
    return _cos_angle_to_subsolar(sun, latitude, longitude) > 0.0


def _shadowed(
    sun: SolarPosition, sin_phi: float, cos_phi: float, cos_hour: float, altitude_km: float
) -> bool:
    """The point at WGS-84 geodetic (latitude, longitude, h) is inside the Earth's cylindrical
    shadow (the sun at infinity, radius `SHADOW_RADIUS_KM`).

    The point goes to Earth-fixed coordinates r (WGS-84 geodetic to ECEF: a distance p from the
    axis and a height z above the equator), and it is in shadow when it is behind the Earth
    (r.s < 0) and nearer the shadow axis than the shadow radius: |r|^2 - (r.s)^2 < R^2. With
    the sun at declination d over longitude L, r.s = p cos(d) cos(lon - L) + z sin(d), so only
    the hour angle's cosine (`cos_hour`) is needed, not the point's own x and y.
    """
    n = WGS84_A_KM / math.sqrt(1.0 - WGS84_E2 * sin_phi * sin_phi)
    p = (n + altitude_km) * cos_phi
    z = (n * (1.0 - WGS84_E2) + altitude_km) * sin_phi
    along = p * sun.cos_declination * cos_hour + z * sun.sin_declination
    if along >= 0.0:
        return False
    return p * p + z * z - along * along < SHADOW_RADIUS_KM * SHADOW_RADIUS_KM


def _sunlit(
    sun: SolarPosition, cos_arc: float, latitude: float, longitude: float, altitude_km: float
) -> bool:
    # A ground point in daylight has the satellite above it on the sunward side: sunlit. Only
    # the night side needs the shadow test.
    if cos_arc >= 0.0:
        return True
    phi = math.radians(latitude)
    cos_hour = math.cos(math.radians(longitude - sun.subsolar_longitude))
    return not _shadowed(sun, math.sin(phi), math.cos(phi), cos_hour, altitude_km)


def satellite_sunlit(
    sun: SolarPosition, latitude: float, longitude: float, altitude_km: float
) -> bool:
    """The satellite at WGS-84 geodetic (latitude, longitude, altitude) is outside the Earth's
    cylindrical shadow (`_shadowed`)."""
    return _sunlit(
        sun, _cos_angle_to_subsolar(sun, latitude, longitude), latitude, longitude, altitude_km
    )


def illumination(
    sun: SolarPosition, latitude: float, longitude: float, altitude_km: float | None
) -> tuple[bool, bool | None]:
    """(ground daylight, satellite sunlit or None without altitude), sharing the trigonometry."""
    cos_arc = _cos_angle_to_subsolar(sun, latitude, longitude)
    if altitude_km is None:
        return cos_arc > 0.0, None
    return cos_arc > 0.0, _sunlit(sun, cos_arc, latitude, longitude, altitude_km)


PointFields = tuple[bool, bool | None, float | None, float, float | None]
"""(ground daylight, satellite sunlit, circular orbital speed km/h, local solar time h,
footprint radius km); the None entries are None without an altitude."""


def point_fields(
    sun: SolarPosition, latitude: float, longitude: float, altitude_km: float | None
) -> PointFields:
    """`illumination`, `circular_orbital_speed_kmh`, `local_solar_time_h` and
    `footprint_radius_km` of one point in a single pass: the enricher's per-record call, sharing
    the latitude's sine and cosine. A test holds it equal to the separate functions."""
    phi = math.radians(latitude)
    sin_phi = math.sin(phi)
    cos_phi = math.cos(phi)
    cos_hour = math.cos(math.radians(longitude - sun.subsolar_longitude))
    cos_arc = sin_phi * sun.sin_declination + cos_phi * sun.cos_declination * cos_hour
    cos_arc = max(-1.0, min(1.0, cos_arc))
    hours = (sun.ut_hours + longitude / 15.0 + sun.equation_of_time_min / 60.0) % 24.0
    if altitude_km is None:
        return (cos_arc > 0.0, None, None, 0.0 if hours >= 24.0 else hours, None)
    a_cos = WGS84_A_KM * cos_phi
    b_sin = WGS84_B_KM * sin_phi
    ellipsoid = math.sqrt(
        ((WGS84_A_KM * a_cos) ** 2 + (WGS84_B_KM * b_sin) ** 2) / (a_cos**2 + b_sin**2)
    )
    orbital = math.sqrt(EARTH_MU_KM3_S2 / (ellipsoid + altitude_km)) * 3600.0
    r = EARTH_MEAN_RADIUS_KM
    footprint = 0.0 if altitude_km <= 0.0 else r * math.acos(r / (r + altitude_km))
    sunlit = cos_arc >= 0.0 or not _shadowed(sun, sin_phi, cos_phi, cos_hour, altitude_km)
    return (
        cos_arc > 0.0,
        sunlit,
        orbital,
        0.0 if hours >= 24.0 else hours,
        footprint,
    )
