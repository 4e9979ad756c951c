"""Where the pass is seen from: a point on the WGS-84 ellipsoid."""

from __future__ import annotations

import math
from dataclasses import dataclass

from iss_passes.errors import ObserverError

# Below the Dead Sea shore or above the highest aircraft, a "ground observer" is a typo.
MIN_HEIGHT_M = -500.0
MAX_HEIGHT_M = 100_000.0


@dataclass(frozen=True, slots=True)
class Observer:
    """Geodetic latitude and longitude in degrees (north and east positive), height in metres."""

    latitude_deg: float
    longitude_deg: float
    height_m: float = 0.0

    def __post_init__(self) -> None:
        for name, value in (
            ("latitude", self.latitude_deg),
            ("longitude", self.longitude_deg),
            ("height", self.height_m),
        ):
            if not math.isfinite(value):
                raise ObserverError(f"{name} {value} is not a number")
        if not -90.0 <= self.latitude_deg <= 90.0:
            raise ObserverError(f"latitude {self.latitude_deg} is outside [-90, 90] degrees")
        if not -180.0 <= self.longitude_deg <= 360.0:
            raise ObserverError(f"longitude {self.longitude_deg} is outside [-180, 360] degrees")
        if not MIN_HEIGHT_M <= self.height_m <= MAX_HEIGHT_M:
            raise ObserverError(
                f"height {self.height_m} m is outside [{MIN_HEIGHT_M:.0f}, {MAX_HEIGHT_M:.0f}] m"
            )

    def describe(self) -> str:
        """`51.5074°N 0.1278°W, 20 m`."""
        lat = f"{abs(self.latitude_deg):.4f}°{'N' if self.latitude_deg >= 0 else 'S'}"
        lon_east = (self.longitude_deg + 180.0) % 360.0 - 180.0
        lon = f"{abs(lon_east):.4f}°{'E' if lon_east >= 0 else 'W'}"
        return f"{lat} {lon}, {self.height_m:.0f} m"
