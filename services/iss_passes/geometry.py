"""Look angles of SGP4 positions from an observer.

SGP4 gives positions in TEME, whose x axis is the mean equinox of date as seen along the true
equator; turning it by Greenwich mean sidereal time (the 1982 formula SGP4 is defined with,
Skyfield's `theta_GMST1982`) gives the Earth-fixed frame (polar motion, under 15 m, is left out).
The observer's Earth-fixed position on WGS-84 comes from Skyfield's `wgs84`; its east, north and
up axes from the geodetic latitude and longitude.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from skyfield.api import wgs84
from skyfield.sgp4lib import theta_GMST1982

from iss_passes.clock import Clock
from iss_passes.observer import Observer


@dataclass(frozen=True, slots=True)
class Station:
    """An observer as Earth-fixed vectors (km) and its local axes (unit vectors)."""

    position_km: Any
    east: Any
    north: Any
    up: Any

    @classmethod
    def of(cls, observer: Observer) -> Station:
        place = wgs84.latlon(observer.latitude_deg, observer.longitude_deg, observer.height_m)
        lat, lon = math.radians(observer.latitude_deg), math.radians(observer.longitude_deg)
        return cls(
            position_km=np.asarray(place.itrs_xyz.km, dtype=float),
            east=np.array([-math.sin(lon), math.cos(lon), 0.0]),
            north=np.array(
                [-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat)]
            ),
            up=np.array(
                [math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)]
            ),
        )

    def look(self, earth_fixed_km: Any) -> tuple[Any, Any]:
        """(elevation, azimuth) in degrees of positions shaped (..., 3)."""
        d = earth_fixed_km - self.position_km
        east, north, up = d @ self.east, d @ self.north, d @ self.up
        elevation = np.degrees(np.arctan2(up, np.hypot(east, north)))
        azimuth = np.degrees(np.arctan2(east, north)) % 360.0
        return elevation, azimuth

    def altitude_of(self, earth_fixed_km: Any) -> Any:
        """Elevation in degrees only (the search's hot path)."""
        d = earth_fixed_km - self.position_km
        up = d @ self.up
        return np.degrees(np.arcsin(up / np.linalg.norm(d, axis=-1)))


def earth_fixed(teme_km: Any, clock: Clock, seconds: Any) -> Any:
    """TEME positions shaped (..., n, 3) at `seconds` (n,) turned into the Earth-fixed frame."""
    jd, fraction = clock.ut1(seconds)
    theta, _ = theta_GMST1982(jd, fraction)
    c, s = np.cos(theta), np.sin(theta)
    x, y, z = teme_km[..., 0], teme_km[..., 1], teme_km[..., 2]
    return np.stack((c * x + s * y, c * y - s * x, z), axis=-1)
