"""Realistic rows for ``positions`` and ``positions_1m``, propagated with SGP4.

Used by the dashboard query tests and the benchmark: millions of rows are generated and written
with one binary ``COPY`` per table, far faster than row-by-row inserts. Positions come from the
shared SGP4 frame conversion (vectorised); every enrichment column comes from the same physics
functions the enricher calls, row by row, so the dashboards see what the enricher would store.
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

from iss_contract.columns import AGGREGATE_COLUMNS, STORED_AT_COLUMN
from iss_contract.columns import POSITION_COLUMNS as STORED_COLUMNS
from iss_physics import geometry
from iss_physics.teme import teme_to_geodetic
from iss_physics.tle import Elements, find, read_tle_file

FloatArray = npt.NDArray[np.float64]

_UNIX_EPOCH_JD = 2440587.5
_PG_EPOCH_UNIX = 946684800  # 2000-01-01T00:00:00Z, PostgreSQL's timestamp origin
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)

# The enricher's columns, plus the commit time the enricher leaves to the database's default.
POSITION_COLUMNS = (*STORED_COLUMNS, STORED_AT_COLUMN)


def find_tle(repo_root: Path, norad_id: int = 25544) -> Elements:
    """The producer's bundled TLE, else the shared data directory next to the repository."""
    candidates = sorted((repo_root / "services" / "iss_producer" / "data").glob("*.tle"))
    candidates += sorted((repo_root.parent / "shared" / "data").glob("*.tle"))
    for path in candidates:
        try:
            return find(read_tle_file(path), norad_id)
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


def propagate(tle: Elements, start_unix: float, count: int, step_s: float = 1.0) -> Track:
    """``count`` positions every ``step_s`` seconds from ``start_unix``, all columns filled."""
    satrec: Any = tle.satrec()
    unix_time = start_unix + step_s * np.arange(count, dtype=np.float64)
    days = unix_time / 86400.0
    jd = _UNIX_EPOCH_JD + np.floor(days)
    fr = days - np.floor(days)
    errors, position, _ = satrec.sgp4_array(jd, fr)
    if np.any(errors):
        raise ValueError(f"SGP4 failed for {int(np.count_nonzero(errors))} of {count} epochs")
    latitude, longitude, altitude = teme_to_geodetic(position, jd, fr)
    columns = _enrich(unix_time.tolist(), latitude.tolist(), longitude.tolist(), altitude.tolist())
    floats = {name: np.asarray(values, dtype=np.float64) for name, values in columns.items()}
    return Track(
        norad_id=tle.norad_id,
        unix_time=unix_time,
        latitude=latitude,
        longitude=longitude,
        altitude_km=altitude,
        orbital_speed_kmh=floats["orbital"],
        ground_speed_kmh=floats["ground"],
        heading_deg=floats["heading"],
        subsolar_latitude=floats["subsolar_lat"],
        subsolar_longitude=floats["subsolar_lon"],
        ground_daylight=floats["daylight"] > 0.5,
        satellite_sunlit=floats["sunlit"] > 0.5,
        local_solar_time_h=floats["solar_time"],
        footprint_radius_km=floats["footprint"],
    )


def _enrich(
    times: list[float], lats: list[float], lons: list[float], alts: list[float]
) -> dict[str, list[float]]:
    """The enrichment columns of each row, from the enricher's own physics functions."""
    names = ("ground", "heading", "orbital", "subsolar_lat", "subsolar_lon", "daylight")
    columns: dict[str, list[float]] = {
        name: [] for name in (*names, "sunlit", "solar_time", "footprint")
    }
    for i, (when, lat, lon, alt) in enumerate(zip(times, lats, lons, alts, strict=True)):
        # The first row has no predecessor: it takes the step to the second row.
        before, after = (i, i + 1) if i == 0 else (i - 1, i)
        step_km, heading = geometry.track_step(lats[before], lons[before], lats[after], lons[after])
        sun = geometry.solar_position_at(when)
        daylight, sunlit, orbital, solar_time, footprint = geometry.point_fields(sun, lat, lon, alt)
        row = (
            step_km / ((times[after] - times[before]) / 3600.0),
            heading,
            orbital or 0.0,
            sun.subsolar_latitude,
            sun.subsolar_longitude,
            float(daylight),
            float(bool(sunlit)),
            solar_time,
            footprint or 0.0,
        )
        for name, value in zip(columns, row, strict=True):
            columns[name].append(value)
    return columns


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
