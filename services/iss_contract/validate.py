"""Validation of raw position records against `iss.position.raw/v1`.

It runs once per record in the enricher's hot path, in stages. Before anything is decoded, the
record's size, nesting depth and container items are bounded (`iss_contract.limits`), so no
record can make a decoder recurse or allocate without bound. A well-formed record is then decoded
and checked in one pass by msgspec into a typed struct (`WellFormedRaw`). Anything that struct
refuses is decoded generically and checked field by field (`from_dict`), which names the reason
for the dead-letter topic. Last, the Kafka key is checked against the payload's `norad_id`. The
JSON Schema in `schemas/raw_position.schema.json` is generated from `WellFormedRaw`
(`python -m iss_contract.schemas`), and tests keep the validator's two stages in agreement.

`parse_raw` raises nothing but `Rejected`: an exception no check foresaw becomes the
`internal_error` reason with the exception's class as its detail.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, get_args

import msgspec

from iss_contract.deadletter import Reason, short
from iss_contract.jsonio import loads
from iss_contract.limits import (
    ALTITUDE_MAX_KM,
    ALTITUDE_MIN_KM,
    EARLIEST_EVENT_TIME,
    FOOTPRINT_MAX_KM,
    MAX_CONTAINER_ITEMS,
    MAX_NAME_CHARS,
    MAX_NESTING,
    MAX_RECORD_BYTES,
    MAX_TEXT_CHARS,
    SPEED_MAX_KMH,
)
from iss_contract.raw import SCHEMA, SOURCES, RawPosition, Source, Visibility
from iss_contract.timefmt import parse_utc

DEFAULT_MAX_FUTURE = timedelta(seconds=60)
MAX_NORAD_ID = 2**31 - 1
"""The storage column is a 32-bit integer; catalogue numbers are far below it."""
MAX_SEQUENCE = 2**63 - 1
"""The storage column is a 64-bit integer."""
_VISIBILITIES: tuple[Visibility, ...] = get_args(Visibility)


class Rejected(ValueError):  # noqa: N818  # a verdict on the input, not a fault
    """A record that does not satisfy the contract, with a reason from the closed set."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


def parse_raw(
    value: bytes | None,
    *,
    key: bytes | None = None,
    now: datetime | None = None,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
) -> RawPosition:
    """Decode and validate one raw record; raise `Rejected` with the reason when it is invalid.

    `key` is the record's Kafka key: when present it must be the payload's `norad_id` in ASCII
    decimal (a record without a key is accepted).
    """
    try:
        position = _parse(value, now, max_future)
    except Rejected:
        raise
    except Exception as exc:  # a check nothing foresaw: still a verdict, never a crash
        raise Rejected(Reason.INTERNAL_ERROR, type(exc).__name__) from None
    if key is not None and key != position.key:
        detail = f"key {_snippet(key)} is not the norad_id {position.norad_id}"
        raise Rejected(Reason.KEY_MISMATCH, detail)
    return position


def _parse(value: bytes | None, now: datetime | None, max_future: timedelta) -> RawPosition:
    if value is None or not value.strip():
        raise Rejected(Reason.INVALID_JSON, "empty record")
    size = len(value)
    if size > MAX_RECORD_BYTES:
        raise Rejected(Reason.TOO_LARGE, f"{size} bytes is over {MAX_RECORD_BYTES}")
    # A real record is one flat object of a dozen members: no "[" and no "{" but the first byte
    # prove it has no nested containers, and fewer commas than the item bound prove it is small
    # (three C scans, well under a microsecond); anything else is scanned (`find`, not `in`: for
    # a one-byte needle it is a memchr, two to three times faster).
    if value.rfind(b"{") > 0 or value.find(b"[") >= 0 or value.count(b",") >= MAX_CONTAINER_ITEMS:
        check_structure(value)
    position = _well_formed(value, now, max_future)
    if position is not None:
        return position
    # Something is off (or merely unusual, like a timestamp in a format msgspec does not read):
    # decode generically, and the field-by-field checks find it and name the reason.
    try:
        document = loads(value)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Rejected(Reason.INVALID_JSON, short(str(exc))) from None
    if not isinstance(document, dict):
        kind = type(document).__name__
        raise Rejected(Reason.NOT_AN_OBJECT, f"expected a JSON object, got {kind}")
    return from_dict(document, now=now, max_future=max_future)


_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*+"?|[\[\]{},]', re.DOTALL)
"""A JSON string (an unterminated one runs to the end; the possessive `*+` never backtracks, so
the scan is linear whatever the quotes and backslashes), or one structural character."""


def check_structure(value: bytes) -> None:
    """Raise `Rejected` (too_complex) if the JSON text nests deeper than `MAX_NESTING` or holds
    more than `MAX_CONTAINER_ITEMS` items; brackets and commas inside strings do not count.

    A scan of the text, not a decode: it cannot recurse, and it runs only for records that are
    not one flat object.
    """
    depth = deepest = 0
    items = 0
    for token in _TOKENS.findall(value):
        if token[0] == 0x22:  # a string: its brackets and commas do not count
            continue
        if token in (b"[", b"{"):
            depth += 1
            items += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_NESTING:
                    raise Rejected(Reason.TOO_COMPLEX, f"nested deeper than {MAX_NESTING}")
        elif token == b",":
            items += 1
            if items > MAX_CONTAINER_ITEMS:
                raise Rejected(Reason.TOO_COMPLEX, f"more than {MAX_CONTAINER_ITEMS} items")
        else:
            depth -= 1


def _snippet(value: object) -> str:
    """A value named in a detail: its repr cut to 40 characters, never the whole value."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:36]}…({type(value).__name__})"


def from_dict(
    document: dict[str, Any],
    *,
    now: datetime | None = None,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
) -> RawPosition:
    """Validate a decoded record and build the position, or raise `Rejected` with the reason."""
    schema = document.get("schema")
    if schema != SCHEMA:
        raise Rejected(Reason.UNKNOWN_SCHEMA, f"schema {_snippet(schema)} is not {SCHEMA!r}")

    norad_id = _integer(document, "norad_id", 1, MAX_NORAD_ID)
    sequence = _integer(document, "sequence", 0, MAX_SEQUENCE)
    latitude = _number(document, "latitude", -90.0, 90.0)
    longitude = _number(document, "longitude", -180.0, 180.0)
    altitude_km = _optional_number(document, "altitude_km", ALTITUDE_MIN_KM, ALTITUDE_MAX_KM)
    if altitude_km is not None and altitude_km <= ALTITUDE_MIN_KM:
        raise Rejected(Reason.OUT_OF_RANGE, f"altitude_km={altitude_km} is not above 0")
    velocity_kmh = _optional_number(document, "velocity_kmh", 0.0, SPEED_MAX_KMH)
    footprint_km = _optional_number(document, "footprint_km", 0.0, FOOTPRINT_MAX_KM)

    source = _string(document, "source")
    if source not in SOURCES:
        detail = f"source {_snippet(source)} is not one of {', '.join(SOURCES)}"
        raise Rejected(Reason.OUT_OF_RANGE, detail)
    producer_id = _string(document, "producer_id", MAX_TEXT_CHARS)
    name = _optional_string(document, "name", MAX_NAME_CHARS)
    visibility = _optional_string(document, "visibility")
    if visibility is not None and visibility not in _VISIBILITIES:
        detail = f"visibility {_snippet(visibility)} is not daylight/eclipsed"
        raise Rejected(Reason.OUT_OF_RANGE, detail)

    event_time = _timestamp(document, "event_time")
    produced_at = (
        None if document.get("produced_at") is None else _timestamp(document, "produced_at")
    )
    limit = (now or datetime.now(UTC)) + max_future
    if event_time > limit:
        detail = f"event_time {event_time.isoformat()} is after {limit.isoformat()}"
        raise Rejected(Reason.FUTURE_TIMESTAMP, detail)
    for field, moment in (("event_time", event_time), ("produced_at", produced_at)):
        if moment is not None and moment < EARLIEST_EVENT_TIME:
            detail = f"{field} {moment.isoformat()} is before {EARLIEST_EVENT_TIME.isoformat()}"
            raise Rejected(Reason.OLD_TIMESTAMP, detail)

    return RawPosition(
        norad_id=norad_id,
        event_time=event_time,
        latitude=latitude,
        longitude=longitude,
        source=_as_source(source),
        producer_id=producer_id,
        sequence=sequence,
        produced_at=produced_at,
        name=name,
        altitude_km=altitude_km,
        velocity_kmh=velocity_kmh,
        visibility=visibility,
        footprint_km=footprint_km,
    )


Latitude = Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
Longitude = Annotated[float, msgspec.Meta(ge=-180.0, le=180.0)]
Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]


class WellFormedRaw(msgspec.Struct, frozen=True, gc=False):
    """The contract as a typed struct: msgspec decodes and checks a record in one C pass.

    Every constraint is also in `from_dict`, which runs when this decoder refuses a record and
    names the reason. Accepting here never accepts what `from_dict` would reject (a test holds
    the two to the same verdicts); unknown fields are ignored by both.
    """

    schema: Literal["iss.position.raw/v1"]
    norad_id: Annotated[
        int, msgspec.Meta(ge=1, le=MAX_NORAD_ID, description="NORAD catalogue number")
    ]
    event_time: Annotated[
        Timestamp,
        msgspec.Meta(
            description="when the position was true, with a UTC offset (stored in UTC); "
            "not before 2000-01-01T00:00:00Z"
        ),
    ]
    latitude: Latitude
    longitude: Longitude
    source: Source
    producer_id: Annotated[str, msgspec.Meta(max_length=MAX_TEXT_CHARS)]
    sequence: Annotated[int, msgspec.Meta(ge=0, le=MAX_SEQUENCE)]
    produced_at: Timestamp | None = None
    name: Annotated[str, msgspec.Meta(max_length=MAX_NAME_CHARS)] | None = None
    altitude_km: Annotated[float, msgspec.Meta(gt=ALTITUDE_MIN_KM, le=ALTITUDE_MAX_KM)] | None = (
        None
    )
    velocity_kmh: (
        Annotated[
            float,
            msgspec.Meta(ge=0.0, le=SPEED_MAX_KMH, description="orbital (inertial) speed"),
        ]
        | None
    ) = None
    visibility: Visibility | None = None
    footprint_km: (
        Annotated[
            float,
            msgspec.Meta(
                ge=0.0,
                le=FOOTPRINT_MAX_KM,
                description="footprint diameter as the source reports it",
            ),
        ]
        | None
    ) = None


_decode_well_formed = msgspec.json.Decoder(WellFormedRaw).decode


def _well_formed(value: bytes, now: datetime | None, max_future: timedelta) -> RawPosition | None:
    """The common case in one pass: a record that satisfies the contract as it stands.

    Returns None as soon as anything is unexpected; `parse_raw` then decodes the record
    generically and checks field by field to name the reason.
    """
    try:
        record = _decode_well_formed(value)
        event_time = record.event_time
        if event_time.tzinfo is not UTC:
            event_time = event_time.astimezone(UTC)
        produced_at = record.produced_at
        if produced_at is not None and produced_at.tzinfo is not UTC:
            produced_at = produced_at.astimezone(UTC)
    except (msgspec.DecodeError, UnicodeDecodeError, OverflowError, RecursionError):
        return None  # ValidationError is a DecodeError; OverflowError: year 0 or 10000 in UTC
    if event_time > (now or datetime.now(UTC)) + max_future or event_time < EARLIEST_EVENT_TIME:
        return None
    if produced_at is not None and produced_at < EARLIEST_EVENT_TIME:
        return None
    return RawPosition(
        norad_id=record.norad_id,
        event_time=event_time,
        latitude=record.latitude,
        longitude=record.longitude,
        source=record.source,
        producer_id=record.producer_id,
        sequence=record.sequence,
        produced_at=produced_at,
        name=record.name,
        altitude_km=record.altitude_km,
        velocity_kmh=record.velocity_kmh,
        visibility=record.visibility,
        footprint_km=record.footprint_km,
    )


def _as_source(text: str) -> Source:
    for source in SOURCES:
        if source == text:
            return source
    raise Rejected(Reason.OUT_OF_RANGE, f"source {text!r}")


def _require(document: dict[str, Any], field: str) -> Any:
    if field not in document or document[field] is None:
        raise Rejected(Reason.MISSING_FIELD, f"{field} is missing")
    return document[field]


def _integer(document: dict[str, Any], field: str, minimum: int, maximum: int) -> int:
    value = _require(document, field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Rejected(Reason.WRONG_TYPE, f"{field} must be an integer, got {_snippet(value)}")
    if not minimum <= value <= maximum:
        detail = f"{field}={_snippet(value)} is outside [{minimum}, {maximum}]"
        raise Rejected(Reason.OUT_OF_RANGE, detail)
    return value


def _to_float(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejected(Reason.WRONG_TYPE, f"{field} must be a number, got {_snippet(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer literal too large for a float
        raise Rejected(Reason.OUT_OF_RANGE, f"{field} is too large") from None
    if not math.isfinite(number):
        raise Rejected(Reason.OUT_OF_RANGE, f"{field} is not finite")
    return number


def _number(document: dict[str, Any], field: str, low: float, high: float) -> float:
    number = _to_float(field, _require(document, field))
    if not low <= number <= high:
        raise Rejected(Reason.OUT_OF_RANGE, f"{field}={number} is outside [{low}, {high}]")
    return number


def _optional_number(document: dict[str, Any], field: str, low: float, high: float) -> float | None:
    if document.get(field) is None:
        return None
    return _number(document, field, low, high)


def _string(document: dict[str, Any], field: str, longest: int | None = None) -> str:
    value = _require(document, field)
    if not isinstance(value, str):
        raise Rejected(Reason.WRONG_TYPE, f"{field} must be a string, got {_snippet(value)}")
    if longest is not None and len(value) > longest:
        raise Rejected(Reason.OUT_OF_RANGE, f"{field} is longer than {longest} characters")
    return value


def _optional_string(
    document: dict[str, Any], field: str, longest: int | None = None
) -> str | None:
    if document.get(field) is None:
        return None
    return _string(document, field, longest)


def _timestamp(document: dict[str, Any], field: str) -> datetime:
    text = _string(document, field)
    try:
        return parse_utc(text)
    except (ValueError, OverflowError):
        detail = f"{field} {_snippet(text)} is not a timestamp with a UTC offset"
        raise Rejected(Reason.BAD_TIMESTAMP, detail) from None
