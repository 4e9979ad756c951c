"""The rule for "visible to the eye", as a pure function of sampled conditions.

A moment of a pass is visible when all three hold:

- the satellite is in sunlight (outside the Earth's shadow, taken as a sphere of the WGS-84
  equatorial radius, 6378.137 km, lit by the Sun's centre);
- the Sun is more than 6 degrees below the observer's horizon (the end of civil twilight: the
  sky is dark enough to pick out a sunlit point of light);
- the satellite is above the minimum elevation (true for every moment between a pass's rise and
  set, which are taken at that elevation).

A pass is visible when at least one sampled moment of it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SUN_LIMIT_DEG = -6.0
"""The Sun must be below this altitude at the observer."""


def visible_moments(
    sunlit: Any, sun_altitude_deg: Any, elevation_deg: Any, min_elevation_deg: float
) -> Any:
    """Element-wise rule over arrays of samples; returns a boolean array."""
    return (
        np.asarray(sunlit, dtype=bool)
        & (np.asarray(sun_altitude_deg) < SUN_LIMIT_DEG)
        & (np.asarray(elevation_deg) >= min_elevation_deg)
    )
