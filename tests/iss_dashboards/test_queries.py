"""Every SQL query of the dashboards, run against the real PostgreSQL with an SGP4 track."""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import pytest

from iss_dashboards import queries as q
from iss_dashboards.defaults import ISS_NORAD_ID, ORBIT_MINUTES
from iss_dashboards.macros import QueryContext
from iss_enricher.storage.schema import migrate
from tests.support import sampletrack

from .fixtures import (
    REPO_ROOT,
    Query,
    Result,
    haversine_km,
    ids,
    mapped_columns,
    run_sql,
    sql_queries,
    variable_queries,
)

pytestmark = pytest.mark.services

# A fixed three-hour window, so the geometry the tests rely on is the same on every run.
TRACK_START = datetime(2026, 9, 17, 6, 0, 0, tzinfo=UTC)
TRACK_SECONDS = 3 * 3600
OTHER_SATELLITE = 99999


@dataclass(frozen=True)
class Loaded:
    dsn: str
    track: sampletrack.Track

    @property
    def end(self) -> datetime:
        return datetime.fromtimestamp(float(self.track.unix_time[-1]), UTC)

    def context(self, time_to: datetime | None = None) -> QueryContext:
        end = time_to or self.end + timedelta(seconds=1)
        return QueryContext(
            time_from=end - timedelta(hours=2),
            time_to=end,
            interval=timedelta(seconds=30),
            variables={"satellite": str(ISS_NORAD_ID)},
        )


@pytest.fixture
def loaded(pg_dsn: str) -> Loaded:
    """The contract's tables (the enricher's own migrations) with three hours of 1 Hz data."""
    migrate(pg_dsn)
    tle = sampletrack.find_tle(REPO_ROOT)
    track = sampletrack.propagate(tle, TRACK_START.timestamp(), TRACK_SECONDS)
    other = sampletrack.propagate(tle, TRACK_START.timestamp(), 60)
    other = dataclasses.replace(other, norad_id=OTHER_SATELLITE)
    with psycopg.connect(pg_dsn) as conn:
        sampletrack.load(conn, track)
        sampletrack.load(conn, other)
    return Loaded(pg_dsn, track)


ALL_SQL = sql_queries() + variable_queries()
# Layers that must draw something for the loaded window (later segments may be empty).
MUST_HAVE_ROWS = {"POSITION", "TRACK0", "TRACK1", "FOOTPRINT0", "A", "var"}


@pytest.mark.parametrize("query", ALL_SQL, ids=ids(ALL_SQL))
def test_every_dashboard_query_returns_the_columns_its_panel_maps(
    loaded: Loaded, query: Query
) -> None:
    result = run_sql(loaded.dsn, query.text, loaded.context())

    assert mapped_columns(query) <= set(result.columns), result.columns
    if query.ref_id in MUST_HAVE_ROWS:
        assert result.rows, f"{query.where} returned no rows"
    if query.panel.get("type") == "timeseries":
        times = result.column("time")
        assert times == sorted(times)
        assert len(result.columns) >= 2


def test_geomap_position_is_the_newest_row_in_range(loaded: Loaded) -> None:
    middle = loaded.end - timedelta(minutes=30)
    result = run_sql(loaded.dsn, q.current_position(), loaded.context(time_to=middle))

    index = int(np.searchsorted(loaded.track.unix_time, middle.timestamp(), side="right")) - 1
    assert result.column("time") == [datetime.fromtimestamp(loaded.track.unix_time[index], UTC)]
    assert result.column("latitude")[0] == pytest.approx(loaded.track.latitude[index])
    assert result.column("longitude")[0] == pytest.approx(loaded.track.longitude[index])


def _segments(loaded: Loaded, context: QueryContext) -> list[Result]:
    return [run_sql(loaded.dsn, q.ground_track(n), context) for n in range(4)]


def test_ground_track_covers_the_last_orbit_ordered_by_time(loaded: Loaded) -> None:
    segments = _segments(loaded, loaded.context())

    oldest_first = [row for result in reversed(segments) for row in result.rows]
    times = [row[0] for row in oldest_first]
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    assert times[-1] == loaded.end
    assert len(times) == ORBIT_MINUTES * 60 // q.TRACK_EVERY_N
    for result in segments:
        assert result.column("time") == sorted(result.column("time"))


def test_ground_track_never_jumps_across_the_antimeridian_within_a_segment(
    loaded: Loaded,
) -> None:
    segments = [s for s in _segments(loaded, loaded.context()) if s.rows]

    assert len(segments) >= 2, "the loaded orbit must cross the antimeridian"
    for result in segments:
        longitudes = np.array(result.column("longitude"))
        assert np.all(np.abs(np.diff(longitudes)) <= 180.0)
    for newer, older in itertools.pairwise(segments):
        # Consecutive segments meet where the track crossed the antimeridian.
        assert abs(newer.column("longitude")[0] - older.column("longitude")[-1]) > 180.0
        assert older.column("time")[-1] < newer.column("time")[0]


def test_ground_track_follows_the_time_range(loaded: Loaded) -> None:
    earlier = loaded.end - timedelta(hours=1)
    segments = _segments(loaded, loaded.context(time_to=earlier))

    newest = max(t for result in segments for t in result.column("time"))
    assert earlier - timedelta(seconds=1) <= newest <= earlier


def _near_antimeridian(loaded: Loaded) -> datetime:
    index = int(np.flatnonzero(loaded.track.longitude > 170.0)[0])
    return datetime.fromtimestamp(float(loaded.track.unix_time[index]), UTC)


@pytest.fixture
def footprint_case(loaded: Loaded) -> tuple[Loaded, QueryContext, list[Result], int]:
    time_to = _near_antimeridian(loaded)
    context = loaded.context(time_to=time_to)
    index = int(np.searchsorted(loaded.track.unix_time, time_to.timestamp(), side="right")) - 1
    parts = [run_sql(loaded.dsn, q.footprint(part), context) for part in range(2)]
    return loaded, context, parts, index


def test_footprint_is_a_circle_at_the_footprint_radius(
    footprint_case: tuple[Loaded, QueryContext, list[Result], int],
) -> None:
    loaded, _, parts, index = footprint_case
    lat0, lon0 = loaded.track.latitude[index], loaded.track.longitude[index]
    radius = loaded.track.footprint_radius_km[index]

    points = [row for part in parts for row in part.rows]
    assert len(points) == 360 // q.FOOTPRINT_STEP_DEG + 1
    for lat, lon in points:
        assert haversine_km(lat0, lon0, lat, lon) == pytest.approx(radius, abs=1.0)
        assert -180.0 <= lon < 180.0


def test_footprint_is_split_at_the_antimeridian_into_contiguous_parts(
    footprint_case: tuple[Loaded, QueryContext, list[Result], int],
) -> None:
    loaded, _, parts, index = footprint_case
    radius = loaded.track.footprint_radius_km[index]
    step_km = 2 * math.pi * radius / (360 // q.FOOTPRINT_STEP_DEG)

    assert all(part.rows for part in parts), "a footprint at lon > 170 must cross"
    for part in parts:
        for (lat1, lon1), (lat2, lon2) in itertools.pairwise(part.rows):
            assert abs(lon2 - lon1) <= 180.0
            assert haversine_km(lat1, lon1, lat2, lon2) < 1.5 * step_km
    near, beyond = parts
    assert np.sign(beyond.column("longitude")[0]) != np.sign(loaded.track.longitude[index])
    assert np.sign(near.column("longitude")[0]) == np.sign(loaded.track.longitude[index])


def test_footprint_far_from_the_antimeridian_is_one_closed_ring(loaded: Loaded) -> None:
    index = int(np.flatnonzero(np.abs(loaded.track.longitude) < 30.0)[0])
    time_to = datetime.fromtimestamp(float(loaded.track.unix_time[index]), UTC)
    context = loaded.context(time_to=time_to)

    ring, beyond = (run_sql(loaded.dsn, q.footprint(part), context) for part in range(2))

    assert beyond.rows == []
    assert ring.rows[0] == pytest.approx(ring.rows[-1])


def test_freshness_is_the_age_of_the_newest_row(loaded: Loaded) -> None:
    before = datetime.now(UTC)
    result = run_sql(loaded.dsn, q.freshness(), loaded.context())
    after = datetime.now(UTC)

    age = result.column("age_seconds")[0]
    assert age >= (before - loaded.end).total_seconds() - 1
    assert age <= (after - loaded.end).total_seconds() + 1


def test_freshness_is_empty_for_a_satellite_without_rows(loaded: Loaded) -> None:
    context = QueryContext(
        time_from=loaded.end - timedelta(hours=1),
        time_to=loaded.end,
        variables={"satellite": "11111"},
    )

    assert run_sql(loaded.dsn, q.freshness(), context).column("age_seconds") == [None]


def test_satellite_variable_lists_every_norad_id(loaded: Loaded) -> None:
    result = run_sql(loaded.dsn, q.satellite_ids(), loaded.context())

    assert result.column("__value") == [ISS_NORAD_ID, OTHER_SATELLITE]
    assert result.column("__text") == [str(ISS_NORAD_ID), str(OTHER_SATELLITE)]


def test_speed_series_are_sample_weighted_minute_means(loaded: Loaded) -> None:
    result = run_sql(loaded.dsn, q.speed_series(), loaded.context())

    orbital = result.column("orbital")
    ground = result.column("ground")
    assert all(27_000 < value < 28_200 for value in orbital)
    assert all(24_000 < value < 25_500 for value in ground)
    assert len(result.rows) == 120  # two hours of one-minute buckets (30 s interval)


def test_altitude_series_bound_the_track(loaded: Loaded) -> None:
    result = run_sql(loaded.dsn, q.altitude_series(), loaded.context())

    lowest, highest = result.column("lowest"), result.column("highest")
    assert all(lo <= hi for lo, hi in zip(lowest, highest, strict=True))
    assert min(lowest) >= float(loaded.track.altitude_km.min())
    assert max(highest) <= float(loaded.track.altitude_km.max())
    assert 400 < min(lowest) < max(highest) < 450
