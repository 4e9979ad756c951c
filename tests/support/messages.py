"""Positions and messages the tests build: raw positions, enriched positions, Kafka records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from iss_contract.enriched import EnrichedPosition
from iss_contract.raw import RawPosition
from iss_enricher.enrich import enrich_position

NOW = datetime(2026, 11, 21, 15, 0, 0, tzinfo=UTC)
"""The validator's "now" in the contract tests, and the event time of `a_position`."""

T0 = datetime(2026, 9, 16, 12, 0, tzinfo=UTC)
"""The event time of `enriched(0)`; `enriched(s)` is `s` seconds later."""


def a_position(**overrides: Any) -> RawPosition:
    """A raw ISS position with every optional field set, at `NOW`; `overrides` replace fields."""
    fields: dict[str, Any] = {
        "norad_id": 25544,
        "event_time": NOW,
        "latitude": 51.5,
        "longitude": -0.1,
        "source": "sgp4",
        "producer_id": "test",
        "sequence": 7,
        "produced_at": NOW,
        "name": "ISS (ZARYA)",
        "altitude_km": 418.0,
        "velocity_kmh": 27_580.0,
        "visibility": "daylight",
        "footprint_km": 4_500.0,
    }
    fields.update(overrides)
    return RawPosition(**fields)


def enriched(second: int, norad_id: int = 25544) -> EnrichedPosition:
    """The enriched position `second` seconds after `T0`, enriched by the enricher's own code
    (no altitude on odd seconds, no ground speed at second 0)."""
    raw = RawPosition(
        norad_id=norad_id,
        event_time=T0 + timedelta(seconds=second),
        latitude=10.0,
        longitude=20.0 + 0.06 * second,
        source="sgp4",
        producer_id="test",
        sequence=second,
        altitude_km=None if second % 2 else 420.0,
    )
    speed = None if second == 0 else 24800.0
    return enrich_position(raw, ground_speed_kmh=speed, heading_deg=45.0, enriched_at=T0)


def enriched_value(sequence: int, producer_id: str = "test-producer") -> bytes:
    """A realistic enriched ISS position whose event time is now (unique per sequence)."""
    now = datetime.now(UTC)
    raw = RawPosition(
        norad_id=25544,
        event_time=now,
        latitude=round(51.6 * ((sequence % 200) / 100 - 1), 4),
        longitude=round((sequence * 4.3) % 360 - 180, 4),
        source="sgp4",
        producer_id=producer_id,
        sequence=sequence,
        produced_at=now,
        name="ISS (ZARYA)",
        altitude_km=418.2,
        velocity_kmh=27580.0,
        visibility="daylight",
    )
    return EnrichedPosition(
        raw=raw,
        ground_speed_kmh=24800.0,
        heading_deg=52.0,
        orbital_speed_kmh=27580.0,
        subsolar_latitude=-19.9,
        subsolar_longitude=-48.0,
        ground_daylight=True,
        satellite_sunlit=True,
        local_solar_time_h=13.2,
        footprint_radius_km=2240.0,
        enriched_at=now,
    ).to_bytes()


def keyed(positions: list[RawPosition]) -> list[tuple[bytes | None, bytes]]:
    """Raw positions as Kafka (key, value) records, as the producer sends them."""
    return [(p.key, p.to_bytes()) for p in positions]
