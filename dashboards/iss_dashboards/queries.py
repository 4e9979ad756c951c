"""SQL for the PostgreSQL datasource, against the ``positions`` and ``positions_1m`` tables.

Every query filters on ``norad_id = $satellite`` first so it walks the ``(norad_id, event_time)``
primary key; "latest" queries read it backwards and stop after one row. Grafana expands the
``$__...`` macros (see :mod:`iss_dashboards.macros` for the same expansion in tests).
"""

from __future__ import annotations

from iss_dashboards.defaults import ORBIT_MINUTES, SATELLITE_VAR
from iss_physics.geometry import EARTH_MEAN_RADIUS_KM as EARTH_RADIUS_KM

# The ground track keeps one row in this many (one point every 10 s at 1 Hz).
TRACK_EVERY_N = 10
# Points on the footprint circle: one every 5 degrees of bearing, first and last coincide.
FOOTPRINT_STEP_DEG = 5

SAT = f"${SATELLITE_VAR}"

# Buckets of Grafana's interval. Not $__timeGroupAlias: its floor(extract(epoch ...)) works in
# numeric (extract returns numeric since PostgreSQL 14) and is 3-5 times slower over 30 days.
TIME_BUCKET = (
    "date_bin(make_interval(secs => $__interval_ms / 1000.0), bucket, "
    "TIMESTAMPTZ '2000-01-01') AS \"time\""
)


def satellite_ids() -> str:
    """Distinct NORAD ids for the ``$satellite`` variable (a loose index scan of the key)."""
    return """
WITH RECURSIVE ids AS (
  (SELECT norad_id FROM positions ORDER BY norad_id LIMIT 1)
  UNION ALL
  SELECT (SELECT p.norad_id FROM positions p WHERE p.norad_id > ids.norad_id
          ORDER BY p.norad_id LIMIT 1)
  FROM ids
  WHERE ids.norad_id IS NOT NULL
)
SELECT norad_id AS __value, norad_id::text AS __text
FROM ids
WHERE norad_id IS NOT NULL
ORDER BY norad_id
"""


def latest(*columns: str) -> str:
    """The newest row in the time range, with ``columns`` (SQL expressions, aliased)."""
    selected = ",\n  ".join(columns)
    return f"""
SELECT
  event_time AS "time",
  {selected}
FROM positions
WHERE norad_id = {SAT} AND $__timeFilter(event_time)
ORDER BY event_time DESC
LIMIT 1
"""


def current_position() -> str:
    """The marker: the newest position with the values its tooltip shows."""
    return latest(
        "latitude",
        "longitude",
        "altitude_km",
        "orbital_speed_kmh",
        "ground_speed_kmh",
        "source",
    )


def freshness() -> str:
    """Age of the newest row, in seconds, whatever the time range (as the operator sees it)."""
    return f"""
SELECT
  now() AS "time",
  EXTRACT(EPOCH FROM now() - max(event_time))::double precision AS age_seconds
FROM positions
WHERE norad_id = {SAT}
"""


def ground_track(segment: int) -> str:
    """One segment of the last orbit before the newest row in range, ordered by time.

    Every :data:`TRACK_EVERY_N`-th row is kept, counted back from the newest (which is always
    kept): at 1 Hz that is a point every 10 s, ~76 km apart, smooth at any zoom that shows a
    whole orbit, and a tenth of the rows to send and draw. A new segment starts wherever
    consecutive longitudes differ by more than 180 degrees (the track crossed the
    antimeridian), so no segment draws a line across the map. Segments are numbered back in
    time: 0 ends at the current position, 1 is the one before it, and so on.
    """
    return f"""
WITH newest AS (
  SELECT max(event_time) AS t
  FROM positions
  WHERE norad_id = {SAT} AND $__timeFilter(event_time)
), orbit AS (
  SELECT
    p.event_time,
    p.latitude,
    p.longitude,
    row_number() OVER (ORDER BY p.event_time DESC) AS age_rank
  FROM positions p, newest
  WHERE p.norad_id = {SAT}
    AND p.event_time > newest.t - interval '{ORBIT_MINUTES} minutes'
    AND p.event_time <= newest.t
), sampled AS (
  SELECT
    event_time,
    latitude,
    longitude,
    CASE WHEN abs(longitude - lag(longitude) OVER (ORDER BY event_time)) > 180
         THEN 1 ELSE 0 END AS wraps
  FROM orbit
  WHERE age_rank % {TRACK_EVERY_N} = 1
), segmented AS (
  SELECT
    event_time,
    latitude,
    longitude,
    sum(wraps) OVER () - sum(wraps) OVER (ORDER BY event_time) AS segment
  FROM sampled
)
SELECT event_time AS "time", latitude, longitude, segment
FROM segmented
WHERE segment = {segment:d}
ORDER BY event_time
"""


def footprint(part: int) -> str:
    """One part of the horizon circle around the newest position, split at the antimeridian.

    Points are destination points at ``footprint_radius_km`` on bearings starting from the side
    away from the antimeridian, so the circle crosses it at most twice: part 0 is the arc on the
    position's side (rows ordered to be contiguous), part 1 the arc beyond the antimeridian.
    """
    steps = 360 // FOOTPRINT_STEP_DEG
    return f"""
WITH here AS (
  SELECT latitude, longitude, footprint_radius_km
  FROM positions
  WHERE norad_id = {SAT} AND $__timeFilter(event_time) AND footprint_radius_km IS NOT NULL
  ORDER BY event_time DESC
  LIMIT 1
), ring AS (
  SELECT
    k,
    radians(h.latitude) AS phi,
    radians(h.longitude) AS lambda,
    h.footprint_radius_km / {EARTH_RADIUS_KM} AS delta,
    radians(CASE WHEN h.longitude >= 0 THEN 270 ELSE 90 END + k * {FOOTPRINT_STEP_DEG}) AS theta
  FROM here h, generate_series(0, {steps}) AS k
), points AS (
  SELECT
    k,
    asin(sin(phi) * cos(delta) + cos(phi) * sin(delta) * cos(theta)) AS lat2,
    phi, lambda, delta, theta
  FROM ring
), unwrapped AS (
  SELECT
    k,
    degrees(lat2) AS latitude,
    degrees(lambda + atan2(sin(theta) * sin(delta) * cos(phi),
                           cos(delta) - sin(phi) * sin(lat2))) AS lon
  FROM points
), wrapped AS (
  SELECT k, latitude, lon - 360 * floor((lon + 180) / 360) AS longitude
  FROM unwrapped
), crossed AS (
  SELECT
    k,
    latitude,
    longitude,
    sum(CASE WHEN abs(longitude - prev) > 180 THEN 1 ELSE 0 END) OVER (ORDER BY k) AS crossings
  FROM (SELECT *, lag(longitude) OVER (ORDER BY k) AS prev FROM wrapped) w
)
SELECT latitude, longitude
FROM crossed
WHERE crossings % 2 = {part:d}
ORDER BY (crossings + 1) % 3, k
"""


def altitude_series() -> str:
    """Lowest and highest altitude per interval, from the one-minute aggregates."""
    return f"""
SELECT
  {TIME_BUCKET},
  min(min_altitude_km) AS "lowest",
  max(max_altitude_km) AS "highest"
FROM positions_1m
WHERE norad_id = {SAT} AND $__timeFilter(bucket)
GROUP BY 1
ORDER BY 1
"""


def speed_series() -> str:
    """Sample-weighted mean orbital and ground speed per interval, from the aggregates."""
    return f"""
SELECT
  {TIME_BUCKET},
  sum(mean_orbital_speed_kmh * samples)
    / nullif(sum(samples) FILTER (WHERE mean_orbital_speed_kmh IS NOT NULL), 0) AS "orbital",
  sum(mean_ground_speed_kmh * samples)
    / nullif(sum(samples) FILTER (WHERE mean_ground_speed_kmh IS NOT NULL), 0) AS "ground"
FROM positions_1m
WHERE norad_id = {SAT} AND $__timeFilter(bucket)
GROUP BY 1
ORDER BY 1
"""
