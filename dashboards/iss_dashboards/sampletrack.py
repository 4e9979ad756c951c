"""Realistic rows for ``positions`` and ``positions_1m``, propagated with SGP4 and vectorised.

Used by the dashboard query tests and the benchmark: millions of rows are generated with numpy
and written with one binary ``COPY`` per table, far faster than row-by-row inserts. The
enrichment columns follow the physics of docs/contracts.md closely enough for the dashboards
(ground speed from consecutive sub-points, cylindrical shadow, footprint radius).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from sgp4.api import Satrec

from iss_enricher.storage.sink import POSITION_COLUMNS as STORED_COLUMNS
from iss_producer.geodesy import speed_kmh, teme_to_geodetic
from iss_producer.tle import TleRecord, find, load_tle_file

FloatArray = npt.NDArray[np.float64]

EARTH_RADIUS_KM = 6371.0
_UNIX_EPOCH_JD = 2440587.5
_PG_EPOCH_UNIX = 946684800  # 2000-01-01T00:00:00Z, PostgreSQL's timestamp origin
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)

# The enricher's columns, plus the commit time the enricher leaves to the database's default.
POSITION_COLUMNS = (*STORED_COLUMNS, "stored_at")
AGGREGATE_COLUMNS = (
    "norad_id",
    "bucket",
    "samples",
    "mean_ground_speed_kmh",
    "mean_orbital_speed_kmh",
    "min_altitude_km",
    "max_altitude_km",
)


def find_tle(repo_root: Path, norad_id: int = 25544) -> TleRecord:
    """The producer's bundled TLE, else the shared data directory next to the repository."""
    candidates = sorted((repo_root / "services" / "iss_producer" / "data").glob("*.tle"))
    candidates += sorted((repo_root.parent / "shared" / "data").glob("*.tle"))
    for path in candidates:
        try:
            return find(load_tle_file(path), norad_id)
        except Exception:  # a file that is not a TLE for this id: try the next one
            continue
    raise FileNotFoundError(f"no TLE for {norad_id} under {repo_root}")


@dataclass(frozen=True)
class Track:
    """Column arrays of ``positions`` rows for one satellite, ordered by event time."""

    norad_id: int
    unix_time: FloatArray
    latitude: FloatArray
    longitude: FloatArray
    altitude_km: FloatArray
    orbital_speed_kmh: FloatArray
    ground_speed_kmh: FloatArray
    heading_deg: FloatArray
    subsolar_latitude: FloatArray
    subsolar_longitude: FloatArray
    ground_daylight: npt.NDArray[np.bool_]
    satellite_sunlit: npt.NDArray[np.bool_]
    local_solar_time_h: FloatArray
    footprint_radius_km: FloatArray

    def __len__(self) -> int:
        return int(self.unix_time.size)


def _sun(unix_time: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Sub-solar latitude, longitude (degrees) and equation of time (minutes), NOAA formulae."""
    t = (unix_time / 86400.0 + _UNIX_EPOCH_JD - 2451545.0) / 36525.0
    mean_long = np.mod(280.46646 + t * (36000.76983 + t * 0.0003032), 360.0)
    m = np.radians(357.52911 + t * (35999.05029 - 0.0001537 * t))
    ecc = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
    centre = (
        np.sin(m) * (1.914602 - t * (0.004817 + 0.000014 * t))
        + np.sin(2 * m) * (0.019993 - 0.000101 * t)
        + np.sin(3 * m) * 0.000289
    )
    omega = np.radians(125.04 - 1934.136 * t)
    apparent = np.radians(mean_long + centre - 0.00569 - 0.00478 * np.sin(omega))
    mean_obliq = 23.0 + (26.0 + (21.448 - t * 46.815) / 60.0) / 60.0
    obliq = np.radians(mean_obliq + 0.00256 * np.cos(omega))
    declination = np.degrees(np.arcsin(np.sin(obliq) * np.sin(apparent)))
    y = np.tan(obliq / 2) ** 2
    l0 = np.radians(mean_long)
    eot = 4.0 * np.degrees(
        y * np.sin(2 * l0)
        - 2 * ecc * np.sin(m)
        + 4 * ecc * y * np.sin(m) * np.cos(2 * l0)
        - 0.5 * y * y * np.sin(4 * l0)
        - 1.25 * ecc * ecc * np.sin(2 * m)
    )
    ut_hours = np.mod(unix_time, 86400.0) / 3600.0
    subsolar_lon = _wrap(-15.0 * (ut_hours - 12.0 + eot / 60.0))
    return declination, subsolar_lon, eot


def _wrap(longitude: FloatArray) -> FloatArray:
    return np.asarray(longitude - 360.0 * np.floor((longitude + 180.0) / 360.0), dtype=np.float64)


def propagate(tle: TleRecord, start_unix: float, count: int, step_s: float = 1.0) -> Track:
    """``count`` positions every ``step_s`` seconds from ``start_unix``, all columns filled."""
    satrec: Any = Satrec.twoline2rv(tle.line1, tle.line2)
    unix_time = start_unix + step_s * np.arange(count, dtype=np.float64)
    days = unix_time / 86400.0
    jd = _UNIX_EPOCH_JD + np.floor(days)
    fr = days - np.floor(days)
    errors, position, velocity = satrec.sgp4_array(jd, fr)
    if np.any(errors):
        raise ValueError(f"SGP4 failed for {int(np.count_nonzero(errors))} of {count} epochs")
    latitude, longitude, altitude = teme_to_geodetic(position, jd, fr)

    lat_r, lon_r = np.radians(latitude), np.radians(longitude)
    dlat, dlon = np.diff(lat_r), np.diff(lon_r)
    a = np.sin(dlat / 2) ** 2 + np.cos(lat_r[:-1]) * np.cos(lat_r[1:]) * np.sin(dlon / 2) ** 2
    step_km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))
    ground = step_km / (np.diff(unix_time) / 3600.0)
    bearing = np.mod(
        np.degrees(
            np.arctan2(
                np.sin(dlon) * np.cos(lat_r[1:]),
                np.cos(lat_r[:-1]) * np.sin(lat_r[1:])
                - np.sin(lat_r[:-1]) * np.cos(lat_r[1:]) * np.cos(dlon),
            )
        ),
        360.0,
    )
    # The first row has no predecessor: repeat the second row's values rather than leave nulls.
    ground_speed = np.concatenate([ground[:1], ground])
    heading = np.concatenate([bearing[:1], bearing])

    declination, subsolar_lon, eot = _sun(unix_time)
    dec_r, sub_r = np.radians(declination), np.radians(subsolar_lon)
    sin_elev = np.sin(lat_r) * np.sin(dec_r) + np.cos(lat_r) * np.cos(dec_r) * np.cos(lon_r - sub_r)
    radius = EARTH_RADIUS_KM + altitude
    along = radius * sin_elev  # satellite position projected on the sun direction
    sunlit = (along >= 0) | (radius**2 - along**2 > EARTH_RADIUS_KM**2)
    solar_time = np.mod(np.mod(unix_time, 86400.0) / 3600.0 + longitude / 15.0 + eot / 60.0, 24.0)
    return Track(
        norad_id=tle.norad_id,
        unix_time=unix_time,
        latitude=latitude,
        longitude=longitude,
        altitude_km=altitude,
        orbital_speed_kmh=speed_kmh(velocity),
        ground_speed_kmh=ground_speed,
        heading_deg=heading,
        subsolar_latitude=declination,
        subsolar_longitude=subsolar_lon,
        ground_daylight=sin_elev > 0,
        satellite_sunlit=sunlit,
        local_solar_time_h=solar_time,
        footprint_radius_km=EARTH_RADIUS_KM * np.arccos(EARTH_RADIUS_KM / radius),
    )


def _pg_micros(unix_time: FloatArray) -> npt.NDArray[np.int64]:
    return np.round((unix_time - _PG_EPOCH_UNIX) * 1e6).astype(np.int64)


def _binary_copy(columns: Sequence[tuple[str, npt.NDArray[Any]]]) -> bytes:
    """PostgreSQL binary COPY data for fixed-width columns, built in one numpy pass."""
    kinds = {"int4": ">i4", "int8": ">i8", "float8": ">f8", "bool": "u1", "timestamptz": ">i8"}
    fields: list[tuple[str, str]] = [("count", ">i2")]
    values: list[tuple[str, npt.NDArray[Any]]] = []
    for index, (kind, array) in enumerate(columns):
        dtype = array.dtype.str if kind == "text" else kinds[kind]
        fields += [(f"l{index}", ">i4"), (f"v{index}", dtype)]
        values.append((kind, array))
    rows = np.empty(len(columns[0][1]), dtype=np.dtype(fields))
    rows["count"] = len(columns)
    for index, (kind, array) in enumerate(values):
        width = array.dtype.itemsize if kind == "text" else np.dtype(kinds[kind]).itemsize
        rows[f"l{index}"] = width
        rows[f"v{index}"] = array
    return _COPY_HEADER + rows.tobytes() + _COPY_TRAILER


def position_copy_data(track: Track, source: str = "sgp4", stored_lag_s: float = 0.3) -> bytes:
    """Binary COPY data for ``positions`` in :data:`POSITION_COLUMNS` order."""
    n = len(track)
    return _binary_copy(
        [
            ("int4", np.full(n, track.norad_id, dtype=np.int32)),
            ("timestamptz", _pg_micros(track.unix_time)),
            ("float8", track.latitude),
            ("float8", track.longitude),
            ("float8", track.altitude_km),
            ("text", np.full(n, source.encode(), dtype=f"S{len(source)}")),
            ("int8", np.arange(n, dtype=np.int64)),
            ("float8", track.ground_speed_kmh),
            ("float8", track.heading_deg),
            ("float8", track.orbital_speed_kmh),
            ("float8", track.subsolar_latitude),
            ("float8", track.subsolar_longitude),
            ("bool", track.ground_daylight.astype(np.uint8)),
            ("bool", track.satellite_sunlit.astype(np.uint8)),
            ("float8", track.local_solar_time_h),
            ("float8", track.footprint_radius_km),
            ("timestamptz", _pg_micros(track.unix_time + stored_lag_s)),
        ]
    )


def aggregate_copy_data(track: Track) -> bytes:
    """Binary COPY data for ``positions_1m``: one row per minute the track touches."""
    minute = np.floor(track.unix_time / 60.0).astype(np.int64)
    buckets, start, samples = np.unique(minute, return_index=True, return_counts=True)
    return _binary_copy(
        [
            ("int4", np.full(buckets.size, track.norad_id, dtype=np.int32)),
            ("timestamptz", _pg_micros(buckets.astype(np.float64) * 60.0)),
            ("int4", samples.astype(np.int32)),
            ("float8", np.add.reduceat(track.ground_speed_kmh, start) / samples),
            ("float8", np.add.reduceat(track.orbital_speed_kmh, start) / samples),
            ("float8", np.minimum.reduceat(track.altitude_km, start)),
            ("float8", np.maximum.reduceat(track.altitude_km, start)),
        ]
    )


def load(conn: psycopg.Connection[Any], track: Track, chunk_rows: int = 200_000) -> None:
    """Write ``track`` to ``positions`` and its minute aggregates to ``positions_1m``."""
    positions = f"COPY positions ({', '.join(POSITION_COLUMNS)}) FROM STDIN BINARY"
    aggregates = f"COPY positions_1m ({', '.join(AGGREGATE_COLUMNS)}) FROM STDIN BINARY"
    with conn.cursor() as cur:
        for first in range(0, len(track), chunk_rows):
            with cur.copy(positions) as cp:
                cp.write(position_copy_data(_slice(track, slice(first, first + chunk_rows))))
        with cur.copy(aggregates) as cp:
            cp.write(aggregate_copy_data(track))
    conn.commit()


def _slice(track: Track, part: slice) -> Track:
    arrays: dict[str, Any] = {
        name: value[part] for name, value in vars(track).items() if isinstance(value, np.ndarray)
    }
    return replace(track, **arrays)
