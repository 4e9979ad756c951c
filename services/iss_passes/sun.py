"""The Sun from DE421, in the Earth-fixed frame, and the Earth's shadow.

The Sun's geometric geocentric position is computed with Skyfield on the search grid and
interpolated linearly in between (it turns by a quarter of a degree a minute in that frame; the
interpolation error is under 0.001 degrees). The shadow test is Skyfield's: a satellite is
sunlit unless the line to the Sun's centre crosses a sphere of the Earth's equatorial radius.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from skyfield.constants import ERAD
from skyfield.framelib import itrs
from skyfield.geometry import intersect_line_and_sphere

from iss_passes import sky
from iss_passes.clock import Clock

EARTH_RADIUS_KM = ERAD / 1000.0


@dataclass(frozen=True, slots=True)
class SunTrack:
    seconds: Any
    position_km: Any
    """Earth-fixed, shaped (n, 3)."""

    @classmethod
    def over(cls, clock: Clock, seconds: Any) -> SunTrack:
        eph = sky.ephemeris()
        a = clock.anchor
        times = sky.timescale().utc(
            a.year, a.month, a.day, a.hour, a.minute, a.second + a.microsecond / 1e6 + seconds
        )
        xyz = (eph["sun"] - eph["earth"]).at(times).frame_xyz(itrs).km
        return cls(np.asarray(seconds, dtype=float), np.asarray(xyz, dtype=float).T)

    def at(self, seconds: Any) -> Any:
        return np.stack(
            [np.interp(seconds, self.seconds, self.position_km[:, i]) for i in range(3)], axis=-1
        )


def sunlit(satellite_km: Any, sun_km: Any) -> Any:
    """Whether each Earth-fixed satellite position (n, 3) sees the Sun's centre."""
    to_earth = -satellite_km.T
    _, far = intersect_line_and_sphere(sun_km.T + to_earth, to_earth, EARTH_RADIUS_KM)
    return np.nan_to_num(far) <= 0
