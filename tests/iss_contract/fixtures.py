"""Poison pills: records a careless or hostile upstream might send, with the outcome the contract
promises for each (a dead-letter reason, or stored)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from iss_contract.deadletter import Reason
from iss_contract.limits import MAX_MESSAGE_BYTES

STORED = "stored"


def raw_document(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "schema": "iss.position.raw/v1",
        "norad_id": 25544,
        "name": "ISS (ZARYA)",
        "event_time": "2026-09-16T12:00:00.000000Z",
        "latitude": 51.2,
        "longitude": -12.5,
        "altitude_km": 418.2,
        "source": "sgp4",
        "producer_id": "test",
        "sequence": 1,
        "produced_at": "2026-09-16T12:00:00.100000Z",
    }
    document.update(overrides)
    return document


def _with_field(document: dict[str, Any], field: str, text: bytes) -> bytes:
    """The document's JSON with `"field": <text>` spliced in as its first member."""
    encoded = json.dumps(document).encode()
    return b'{"' + field.encode() + b'":' + text + b"," + encoded[1:]


@dataclass(frozen=True)
class Pill:
    name: str
    value: bytes
    outcome: Reason | str
    key: bytes | None = b"25544"


def poison_pills(**base: Any) -> list[Pill]:
    """Every case of the poison-pill report, plus the near misses on either side of each bound.

    `base` overrides fields of the valid document the pills are built from (an event time)."""
    valid = raw_document(**base)

    def doc(**overrides: Any) -> bytes:
        return json.dumps({**valid, **overrides}).encode()

    return [
        Pill("array nested 5,000 deep", b"[" * 5_000 + b"]" * 5_000, Reason.TOO_COMPLEX),
        Pill("array nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, Reason.TOO_LARGE),
        Pill(
            "object nested 5,000 deep", b'{"a":' * 5_000 + b"1" + b"}" * 5_000, Reason.TOO_COMPLEX
        ),
        Pill(
            "valid record with a field nested 100,000 deep",
            _with_field(valid, "extra", b"[" * 100_000 + b"]" * 100_000),
            Reason.TOO_LARGE,
        ),
        Pill(
            "valid record with a field nested 20,000 deep",
            _with_field(valid, "extra", b"[" * 20_000 + b"]" * 20_000),
            Reason.TOO_COMPLEX,
        ),
        Pill("a 2 MB record", b"x" * 2_000_000, Reason.TOO_LARGE),
        Pill("a 900 KB bad record", b"{" + b" " * 900_000, Reason.TOO_LARGE),
        Pill(
            "a 480 KB record with a 70,000-element latitude",
            doc(latitude=[51.2345] * 70_000),
            Reason.TOO_LARGE,
        ),
        Pill(
            "a record with a 10,000-element latitude",
            doc(latitude=[1] * 10_000),
            Reason.TOO_COMPLEX,
        ),
        Pill(
            "a flat record with 3,000 extra members",
            doc(**{f"extra_{i}": i for i in range(3_000)}),
            Reason.TOO_COMPLEX,
        ),
        Pill("a valid 999,900-byte record", doc(name="N" * 999_600), Reason.TOO_LARGE),
        Pill("a name of 300 characters", doc(name="N" * 300), Reason.OUT_OF_RANGE),
        Pill("a key that is not the norad_id", doc(), Reason.KEY_MISMATCH, key=b"99999"),
        Pill(
            "a key that fills the topic's limit",
            doc(),
            Reason.KEY_MISMATCH,
            key=b"7" * (MAX_MESSAGE_BYTES - len(doc()) - 256),
        ),
        Pill("an event_time in 1900", doc(event_time="1900-01-01T00:00:00Z"), Reason.OLD_TIMESTAMP),
        Pill("an altitude of -10 km", doc(altitude_km=-10.0), Reason.OUT_OF_RANGE),
        Pill("an altitude of 0 km", doc(altitude_km=0.0), Reason.OUT_OF_RANGE),
        Pill(
            "a produced_at before year 1 in UTC",
            doc(produced_at="0001-01-01T00:00:00+01:00"),
            Reason.BAD_TIMESTAMP,
        ),
        Pill(
            "an event_time after year 9999 in UTC",
            doc(event_time="9999-12-31T23:59:59-01:00"),
            Reason.BAD_TIMESTAMP,
        ),
        Pill(
            "a 60 KB record whose unknown field is one long string",
            _with_field(valid, "note", json.dumps("[{" * 29_000).encode()),
            STORED,
            key=b"25544",
        ),
    ]
