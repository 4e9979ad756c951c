"""Window accumulators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from iss_contract.enriched import EnrichedPosition
from iss_contract.raw import RawPosition
from iss_enricher.aggregate import Accumulator, finish, fold

pytestmark = pytest.mark.unit


def enriched(
    altitude: float | None, ground: float | None, orbital: float | None
) -> EnrichedPosition:
    raw = RawPosition(
        norad_id=25544,
        event_time=datetime(2026, 9, 16, tzinfo=UTC),
        latitude=0.0,
        longitude=0.0,
        source="sgp4",
        producer_id="test",
        sequence=0,
        altitude_km=altitude,
    )
    return EnrichedPosition(
        raw, ground, None, orbital, 0.0, 0.0, True, None, 12.0, None, raw.event_time
    )


def test_folding_counts_every_sample_and_averages_only_known_speeds() -> None:
    acc = Accumulator()
    for position in (
        enriched(419.0, None, 27600.0),
        enriched(418.0, 24800.0, 27500.0),
        enriched(None, 24900.0, None),
    ):
        fold(acc, position)
    row = finish(25544, 0, timedelta(minutes=1), acc)
    assert row.samples == 3
    assert row.mean_ground_speed_kmh == pytest.approx(24850.0)
    assert row.mean_orbital_speed_kmh == pytest.approx(27550.0)
    assert (row.min_altitude_km, row.max_altitude_km) == (418.0, 419.0)


def test_a_window_without_speeds_has_null_means() -> None:
    row = finish(25544, 0, timedelta(minutes=1), Accumulator(samples=1))
    assert row.mean_ground_speed_kmh is None
    assert row.mean_orbital_speed_kmh is None


def test_window_ids_map_to_minute_buckets() -> None:
    bucket = datetime(2026, 9, 16, 12, 34, tzinfo=UTC)
    window_id = int((bucket - datetime(2000, 1, 1, tzinfo=UTC)) / timedelta(minutes=1))
    assert finish(1, window_id, timedelta(minutes=1), Accumulator()).bucket == bucket
