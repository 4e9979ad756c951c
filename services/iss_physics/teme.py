"""TEME (SGP4 output frame) to Earth-fixed to geodetic coordinates, vectorised with numpy.

Polar motion and the UT1-UTC difference are ignored: together they move a low-Earth-orbit
sub-point by well under a kilometre, far below the error of a TLE a day after its epoch.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563
_E2 = WGS84_F * (2.0 - WGS84_F)
_B_KM = WGS84_A_KM * (1.0 - WGS84_F)
_EP2 = (WGS84_A_KM**2 - _B_KM**2) / _B_KM**2
_SECONDS_PER_DAY = 86400.0


def gmst_radians(jd: FloatArray | float, fr: FloatArray | float) -> FloatArray:
    """Greenwich mean sidereal time (IAU 1982 model, the one SGP4's TEME frame is defined with)."""
    t = (np.asarray(jd, dtype=np.float64) - 2451545.0 + np.asarray(fr, dtype=np.float64)) / 36525.0
    seconds = (
        67310.54841 + (876600.0 * 3600.0 + 8640184.812866) * t + 0.093104 * t**2 - 6.2e-6 * t**3
    )
    # 240 s of sidereal time per degree.
    return np.asarray(np.radians(np.mod(seconds / 240.0, 360.0)), dtype=np.float64)


def teme_to_ecef(position_km: FloatArray, gmst: FloatArray | float) -> FloatArray:
    """Rotate TEME vectors (shape (..., 3)) about the z axis by GMST into the Earth-fixed frame."""
    cos_g = np.cos(gmst)
    sin_g = np.sin(gmst)
    x = position_km[..., 0]
    y = position_km[..., 1]
    out = np.empty_like(position_km)
    out[..., 0] = cos_g * x + sin_g * y
    out[..., 1] = -sin_g * x + cos_g * y
    out[..., 2] = position_km[..., 2]
    return out


def ecef_to_geodetic(ecef_km: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """WGS-84 latitude and longitude in degrees and height in km (Bowring's method).

    One Bowring step is accurate to well under a metre for heights below a few thousand km.
    """
    x = ecef_km[..., 0]
    y = ecef_km[..., 1]
    z = ecef_km[..., 2]
    p = np.hypot(x, y)
    theta = np.arctan2(z * WGS84_A_KM, p * _B_KM)
    sin_t = np.sin(theta)
    cos_t = np.cos(theta)
    lat = np.arctan2(z + _EP2 * _B_KM * sin_t**3, p - _E2 * WGS84_A_KM * cos_t**3)
    sin_lat = np.sin(lat)
    height = p * np.cos(lat) + z * sin_lat - WGS84_A_KM * np.sqrt(1.0 - _E2 * sin_lat**2)
    lon = np.arctan2(y, x)
    return np.degrees(lat), np.degrees(lon), height


def teme_to_geodetic(
    position_km: FloatArray, jd: FloatArray | float, fr: FloatArray | float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Latitude (deg), longitude (deg, [-180, 180]) and WGS-84 height (km) of TEME positions."""
    return ecef_to_geodetic(teme_to_ecef(position_km, gmst_radians(jd, fr)))


def speed_kmh(velocity_km_s: FloatArray) -> FloatArray:
    """Inertial speed in km/h from TEME velocity vectors in km/s."""
    return np.asarray(np.linalg.norm(velocity_km_s, axis=-1) * 3600.0, dtype=np.float64)


def julian_date(unix_seconds: float) -> tuple[float, float]:
    """Split Julian date (whole part at midnight, fraction of day) of a unix time, UTC."""
    days = unix_seconds / _SECONDS_PER_DAY
    whole = np.floor(days)
    return 2440587.5 + float(whole), float(days - whole)
