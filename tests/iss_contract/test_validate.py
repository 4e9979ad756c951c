from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import jsonschema
import pytest

from iss_contract.deadletter import Reason
from iss_contract.raw import RawPosition
from iss_contract.schemas import load
from iss_contract.validate import Rejected, from_dict, parse_raw
from tests.support.messages import NOW, a_position

pytestmark = pytest.mark.unit


def a_document(**overrides: Any) -> bytes:
    document = a_position().to_dict()
    document.update(overrides)
    return json.dumps(document).encode()


def test_a_position_survives_the_round_trip_through_bytes() -> None:
    position = a_position()
    assert parse_raw(position.to_bytes(), now=NOW) == position


def test_the_kafka_key_is_the_norad_id_in_ascii() -> None:
    assert a_position().key == b"25544"


def test_serialised_positions_satisfy_the_published_json_schema() -> None:
    jsonschema.validate(a_position().to_dict(), load("raw_position"))
    minimal = a_position(
        name=None, altitude_km=None, velocity_kmh=None, visibility=None, footprint_km=None
    )
    jsonschema.validate(minimal.to_dict(), load("raw_position"))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"", Reason.INVALID_JSON),
        (b"<html><body>502 Bad Gateway</body></html>", Reason.INVALID_JSON),
        (b"\xff\xfe", Reason.INVALID_JSON),
        (b"[1, 2]", Reason.NOT_AN_OBJECT),
        (a_document(schema="iss.position.raw/v0"), Reason.UNKNOWN_SCHEMA),
        (a_document(latitude=None), Reason.MISSING_FIELD),
        (a_document(latitude="51.5"), Reason.WRONG_TYPE),
        (a_document(norad_id=True), Reason.WRONG_TYPE),
        (a_document(latitude=90.5), Reason.OUT_OF_RANGE),
        (a_document(longitude=-180.01), Reason.OUT_OF_RANGE),
        (a_document(norad_id=2**31), Reason.OUT_OF_RANGE),
        (a_document(source="carrier-pigeon"), Reason.OUT_OF_RANGE),
        (a_document(event_time="yesterday"), Reason.BAD_TIMESTAMP),
        (a_document(event_time="2026-11-21T15:00:00"), Reason.BAD_TIMESTAMP),
        (
            a_document(event_time=(NOW + timedelta(hours=1)).isoformat()),
            Reason.FUTURE_TIMESTAMP,
        ),
    ],
)
def test_each_kind_of_bad_record_is_rejected_with_its_reason(value: bytes, reason: Reason) -> None:
    with pytest.raises(Rejected) as rejected:
        parse_raw(value, now=NOW)
    assert rejected.value.reason is reason


def test_non_finite_numbers_are_out_of_range() -> None:
    with pytest.raises(Rejected) as rejected:
        parse_raw(a_document(latitude=float("nan")), now=NOW)
    assert rejected.value.reason is Reason.OUT_OF_RANGE


def test_records_the_schema_rejects_are_rejected_by_the_validator_too() -> None:
    schema = load("raw_position")
    for bad in ({"latitude": 91}, {"sequence": -1}, {"visibility": "twilight"}):
        document = json.loads(a_document(**bad))
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(document, schema)
        with pytest.raises(Rejected):
            parse_raw(json.dumps(document).encode(), now=NOW)


def test_whole_numbers_written_without_a_decimal_point_are_accepted_as_floats() -> None:
    position = parse_raw(a_document(latitude=51, longitude=0, altitude_km=418), now=NOW)
    assert (position.latitude, position.longitude, position.altitude_km) == (51.0, 0.0, 418.0)
    assert isinstance(position.latitude, float)


def test_an_integer_too_large_for_a_float_is_out_of_range_not_a_crash() -> None:
    with pytest.raises(Rejected) as rejected:
        parse_raw(a_document(latitude=10**400), now=NOW)
    assert rejected.value.reason is Reason.OUT_OF_RANGE


def test_a_position_from_another_offset_is_stored_in_utc() -> None:
    document = json.loads(a_document())
    document["event_time"] = "2026-11-21T17:00:00+02:00"
    position = parse_raw(json.dumps(document).encode(), now=NOW)
    assert position.event_time == NOW
    assert position.event_time.utcoffset() is not None


def test_a_norad_id_beyond_64_bits_is_rejected_as_out_of_range_rather_than_stored() -> None:
    with pytest.raises(Rejected) as rejected:
        parse_raw(a_document(norad_id=10**30), now=NOW)
    assert rejected.value.reason is Reason.OUT_OF_RANGE


def _variants() -> list[dict[str, Any]]:
    """The well-formed document with one field changed to an edge value, or removed."""
    base: dict[str, Any] = json.loads(a_document())
    numbers: list[Any] = [0, 1, -1, -0.0, 90, 90.0000001, -90.0, 180.0, -180.5, 1e6, 1e6 + 1]
    numbers += [-1e3, -1000.5, 2**31 - 1, 2**31, 2**63 - 1, 2**63, True, None, "1", 10**30, []]
    texts: list[Any] = [None, "", "x", 1, True, "sgp4", "open-notify", "eclipsed", "Daylight"]
    times: list[Any] = [None, 5, "", "2026-11-21t15:00:00z", "2026-11-21 15:00:00Z"]
    times += ["2026-11-21T17:00:00+02:00", "2026-11-21T15:00:00", "2026-11-21T15:00:00.1234567Z"]
    times += ["2026-11-21T15:00:60Z", "2026-02-30T00:00:00Z", "20261121T150000Z", "2026-11-21"]
    variants: list[dict[str, Any]] = [{**base, "unknown": 1}]
    for field in ("norad_id", "latitude", "longitude", "altitude_km", "velocity_kmh", "sequence"):
        variants += [{**base, field: value} for value in numbers]
    for field in ("schema", "name", "source", "producer_id", "visibility"):
        variants += [{**base, field: value} for value in texts]
    for field in ("event_time", "produced_at"):
        variants += [{**base, field: value} for value in times]
    variants += [{k: v for k, v in base.items() if k != field} for field in base]
    return variants


def _verdict(parse: Any) -> RawPosition | Reason:
    try:
        position: RawPosition = parse()
    except Rejected as rejected:
        return rejected.reason
    return position


def test_the_one_pass_decoder_and_the_field_checks_give_the_same_verdict_on_edge_cases() -> None:
    variants = _variants()
    verdicts = set()
    for document in variants:
        value = json.dumps(document).encode()
        quick = _verdict(lambda: parse_raw(value, now=NOW))  # noqa: B023  # called at once
        careful = _verdict(lambda: from_dict(json.loads(value), now=NOW))  # noqa: B023
        assert quick == careful, document
        verdicts.add(quick if isinstance(quick, Reason) else "accepted")
    assert len(variants) > 150
    assert verdicts >= {"accepted", Reason.MISSING_FIELD, Reason.WRONG_TYPE, Reason.OUT_OF_RANGE}
    assert verdicts >= {Reason.UNKNOWN_SCHEMA, Reason.BAD_TIMESTAMP}


def test_timestamps_are_rfc3339_in_either_case_and_rounded_to_the_microsecond() -> None:
    lower = parse_raw(a_document(event_time="2026-11-21t15:00:00.1234567z"), now=NOW)
    assert lower.event_time == NOW.replace(microsecond=123457)
