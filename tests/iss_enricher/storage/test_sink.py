"""Batched, idempotent, outage-proof writes to a real PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from prometheus_client import REGISTRY

from iss_enricher.aggregate import WindowAggregate
from iss_enricher.storage.schema import migrate
from iss_enricher.storage.sink import AggregatesSink, Backoff, PositionsSink
from tests.support.messages import T0, enriched
from tests.support.tables import count

pytestmark = pytest.mark.services

FAST = Backoff(initial_seconds=0.1, max_seconds=0.5)


def merged_batches() -> float:
    return REGISTRY.get_sample_value("iss_enricher_merged_batches_total") or 0.0


@pytest.fixture
def migrated(pg_dsn: str) -> str:
    migrate(pg_dsn)
    return pg_dsn


def test_a_replayed_batch_adds_no_duplicate_rows(migrated: str) -> None:
    writer = PositionsSink(migrated, FAST).build("positions-out", 0, 1)
    writer.write_batch([enriched(s) for s in range(10)])
    writer.write_batch([enriched(s) for s in range(5, 15)])
    writer.write_batch([enriched(3), enriched(3)])
    writer.close()
    assert count(migrated) == 15


def test_only_batches_that_hold_stored_rows_take_the_on_conflict_merge(migrated: str) -> None:
    writer = PositionsSink(migrated, FAST).build("positions-out", 0, 1)
    merged = merged_batches()
    writer.write_batch([enriched(s) for s in range(10)])
    writer.write_batch([enriched(s) for s in range(10, 20)])
    assert merged_batches() == merged
    writer.write_batch([enriched(s) for s in range(15, 25)])
    assert merged_batches() == merged + 1
    writer.close()
    with psycopg.connect(migrated) as conn:
        stored = conn.execute("SELECT sequence FROM positions ORDER BY event_time").fetchall()
    assert [row[0] for row in stored] == list(range(25))


def test_rows_hold_every_enriched_column(migrated: str) -> None:
    writer = PositionsSink(migrated, FAST).build("positions-out", 0, 1)
    positions = [enriched(0), enriched(1)]
    writer.write_batch(positions)
    writer.close()
    with psycopg.connect(migrated) as conn:
        rows: list[tuple[Any, ...]] = conn.execute(
            "SELECT norad_id, event_time, latitude, longitude, altitude_km, source, sequence,"
            " ground_speed_kmh, heading_deg, orbital_speed_kmh, subsolar_latitude,"
            " subsolar_longitude, ground_daylight, satellite_sunlit, local_solar_time_h,"
            " footprint_radius_km, stored_at FROM positions ORDER BY event_time"
        ).fetchall()
    first, second = rows
    p = positions[0]
    assert first[:7] == (25544, T0, 10.0, 20.0, 420.0, "sgp4", 0)
    assert first[7:16] == (
        None,
        45.0,
        p.orbital_speed_kmh,
        p.subsolar_latitude,
        p.subsolar_longitude,
        p.ground_daylight,
        p.satellite_sunlit,
        p.local_solar_time_h,
        p.footprint_radius_km,
    )
    assert (second[4], second[13], second[15]) == (None, None, None)
    assert second[7] == 24800.0
    assert abs(first[16] - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_re_delivered_window_replaces_its_aggregate_row(migrated: str) -> None:
    writer = AggregatesSink(migrated, FAST).build("aggregates-out", 0, 1)
    writer.write_batch([WindowAggregate(25544, T0, 30, 24800.0, 27600.0, 418.0, 419.0)])
    writer.write_batch([WindowAggregate(25544, T0, 60, 24810.0, 27610.0, 417.0, 420.0)])
    writer.close()
    with psycopg.connect(migrated) as conn:
        rows = conn.execute("SELECT samples, min_altitude_km FROM positions_1m").fetchall()
    assert rows == [(60, 417.0)]


def test_a_database_outage_delays_the_batch_without_losing_it(migrated: str, postgres: Any) -> None:
    writer = PositionsSink(migrated, FAST).build("positions-out", 0, 1)
    writer.write_batch([enriched(0)])  # the connection is open before the outage
    postgres.stop()
    done = threading.Event()
    failure: list[BaseException] = []

    def write() -> None:
        try:
            writer.write_batch([enriched(s) for s in range(1, 20)])
        except BaseException as exc:  # reported to the test thread
            failure.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=write, daemon=True)
    try:
        thread.start()
        time.sleep(2.0)
        assert not done.is_set(), "the write returned while the database was down"
    finally:
        postgres.start()
    assert done.wait(60), "the write did not resume after the database came back"
    writer.close()
    assert failure == []
    assert count(migrated) == 20
