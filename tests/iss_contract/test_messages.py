"""The enriched and dead-letter messages: what goes on the wire satisfies the published schemas."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import jsonschema
import pytest

from iss_contract.deadletter import DeadLetter, Reason
from iss_contract.enriched import EnrichedPosition, InvalidEnrichedError, decode_summary
from iss_contract.schemas import load
from tests.support.messages import NOW, a_position

pytestmark = pytest.mark.unit


def an_enriched_position(**raw_fields: object) -> EnrichedPosition:
    return EnrichedPosition(
        raw=a_position(**raw_fields),
        ground_speed_kmh=24_830.5,
        heading_deg=51.2,
        orbital_speed_kmh=27_580.0,
        subsolar_latitude=-19.9,
        subsolar_longitude=-44.2,
        ground_daylight=True,
        satellite_sunlit=True,
        local_solar_time_h=14.9,
        footprint_radius_km=2_237.0,
        enriched_at=NOW,
    )


def test_an_enriched_message_satisfies_the_published_schema_and_reads_back_as_its_dict() -> None:
    minimal = {"name": None, "altitude_km": None, "velocity_kmh": None, "produced_at": None}
    for position in (an_enriched_position(), an_enriched_position(**minimal)):
        document = json.loads(position.to_bytes())
        jsonschema.validate(document, load("enriched_position"))
        assert document == position.to_dict()
        assert next(iter(document)) == "schema"
        assert document["event_time"] == "2026-11-21T15:00:00Z"


def test_an_enriched_message_reads_back_as_the_summary_its_readers_use() -> None:
    summary = decode_summary(an_enriched_position().to_bytes())
    assert summary.key == (25544, "2026-11-21T15:00:00Z")
    assert (summary.latitude, summary.longitude) == (a_position().latitude, a_position().longitude)
    assert summary.source == a_position().source


def test_a_summary_refuses_a_field_nested_deeper_than_the_decoder_goes() -> None:
    deep = b'{"event_time":"2026-11-21T15:00:00Z","latitude":1,"longitude":2,"x":'
    with pytest.raises(InvalidEnrichedError, match="nested too deeply"):
        decode_summary(deep + b"[" * 100_000 + b"]" * 100_000 + b"}")


def test_an_enriched_message_keeps_every_raw_field_it_was_built_from() -> None:
    position = an_enriched_position()
    document = position.to_dict()
    raw = position.raw.to_dict()
    del raw["schema"]
    for key in ("event_time", "produced_at"):  # the same instants, written without zero digits
        assert datetime.fromisoformat(document.pop(key)) == datetime.fromisoformat(raw.pop(key))
    assert {key: document[key] for key in raw} == raw


def test_timestamps_are_written_in_utc_with_a_z_and_microseconds_when_there_are_any() -> None:
    paris = timezone(timedelta(hours=1))
    position = an_enriched_position(
        event_time=datetime(2026, 11, 21, 16, 0, 0, 120000, tzinfo=paris),
        produced_at=datetime(2026, 11, 21, 15, 0, 1, 5, tzinfo=UTC),
    )
    document = json.loads(position.to_bytes())
    assert document["event_time"] == "2026-11-21T15:00:00.120000Z"
    assert document["produced_at"] == "2026-11-21T15:00:01.000005Z"
    assert document["enriched_at"] == "2026-11-21T15:00:00Z"


def test_a_name_with_a_lone_surrogate_is_still_published_as_json() -> None:
    position = an_enriched_position(name="ISS \ud800")
    assert json.loads(position.to_bytes())["name"] == "ISS \ud800"


def test_a_dead_letter_satisfies_the_published_schema() -> None:
    letter = DeadLetter(
        reason=Reason.OUT_OF_RANGE,
        detail="latitude=91.0 is outside [-90.0, 90.0]",
        topic="iss.positions.raw",
        partition=0,
        offset=42,
        key=b"25544",
        value=b'{"latitude": 91}',
        rejected_at=NOW,
    )
    document = json.loads(letter.to_bytes())
    jsonschema.validate(document, load("deadletter"))
    assert document["reason"] == "out_of_range"
