"""The storage contract: the columns of ``positions`` and ``positions_1m`` that writers fill, in
the order they are copied, with their PostgreSQL types (docs/contracts.md has the tables)."""

from __future__ import annotations

POSITION_COLUMNS_AND_TYPES = (
    ("norad_id", "int4"),
    ("event_time", "timestamptz"),
    ("latitude", "float8"),
    ("longitude", "float8"),
    ("altitude_km", "float8"),
    ("source", "text"),
    ("sequence", "int8"),
    ("ground_speed_kmh", "float8"),
    ("heading_deg", "float8"),
    ("orbital_speed_kmh", "float8"),
    ("subsolar_latitude", "float8"),
    ("subsolar_longitude", "float8"),
    ("ground_daylight", "bool"),
    ("satellite_sunlit", "bool"),
    ("local_solar_time_h", "float8"),
    ("footprint_radius_km", "float8"),
)
"""The ``positions`` columns the enricher writes; ``stored_at`` is left to its default."""

POSITION_COLUMNS = tuple(name for name, _ in POSITION_COLUMNS_AND_TYPES)
POSITION_TYPES = tuple(kind for _, kind in POSITION_COLUMNS_AND_TYPES)
"""PostgreSQL types of POSITION_COLUMNS, for binary COPY (no number formatting or parsing)."""

STORED_AT_COLUMN = "stored_at"
"""When the row was committed: the database's default, unless a loader sets it."""

AGGREGATE_COLUMNS = (
    "norad_id",
    "bucket",
    "samples",
    "mean_ground_speed_kmh",
    "mean_orbital_speed_kmh",
    "min_altitude_km",
    "max_altitude_km",
)
"""The ``positions_1m`` columns: one row per satellite and minute."""
