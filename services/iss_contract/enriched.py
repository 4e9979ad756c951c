"""The enriched position message, `iss.position.enriched/v1`, written by the enricher."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from iss_contract.jsonio import dumps
from iss_contract.raw import RawPosition

SCHEMA = "iss.position.enriched/v1"


class EnrichedPosition(msgspec.Struct, frozen=True, gc=False):
    """A raw position plus everything the enricher derives from it and its predecessor.

    A msgspec struct like `RawPosition`, for the same reason: one is built per record.
    """

    raw: RawPosition
    ground_speed_kmh: float | None
    heading_deg: float | None
    orbital_speed_kmh: float | None
    subsolar_latitude: float
    subsolar_longitude: float
    ground_daylight: bool
    satellite_sunlit: bool | None
    local_solar_time_h: float
    footprint_radius_km: float | None
    enriched_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The message as a JSON-ready dict (the same document `to_bytes` encodes)."""
        document: dict[str, Any] = msgspec.to_builtins(self._record())
        return document

    def to_bytes(self) -> bytes:
        """The message as compact UTF-8 JSON."""
        record = self._record()
        try:
            return _encode(record)
        except UnicodeEncodeError:  # a name with a lone surrogate (valid JSON, not UTF-8)
            return dumps(msgspec.to_builtins(record))

    def _record(self) -> msgspec.Struct:
        raw = self.raw
        # Timestamps are UTC already but for a caller's own datetimes; check without a call.
        event_time = raw.event_time
        if event_time.tzinfo is not UTC:
            event_time = _utc(event_time)
        produced_at = raw.produced_at
        if produced_at is not None and produced_at.tzinfo is not UTC:
            produced_at = _utc(produced_at)
        enriched_at = self.enriched_at
        if enriched_at.tzinfo is not UTC:
            enriched_at = _utc(enriched_at)
        record: msgspec.Struct = _EnrichedRecord(
            raw.norad_id,
            raw.name,
            event_time,
            raw.latitude,
            raw.longitude,
            raw.altitude_km,
            raw.velocity_kmh,
            raw.visibility,
            raw.footprint_km,
            raw.source,
            raw.producer_id,
            raw.sequence,
            produced_at,
            self.ground_speed_kmh,
            self.heading_deg,
            self.orbital_speed_kmh,
            self.subsolar_latitude,
            self.subsolar_longitude,
            self.ground_daylight,
            self.satellite_sunlit,
            self.local_solar_time_h,
            self.footprint_radius_km,
            enriched_at,
        )
        return record


def _utc(moment: datetime) -> datetime:
    """The instant in UTC, so that msgspec writes it with a `Z` (it writes any other offset)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: every timestamp on the wire must be timezone-aware")
    return moment.astimezone(UTC)


WIRE_ORDER = (
    "norad_id",
    "name",
    "event_time",
    "latitude",
    "longitude",
    "altitude_km",
    "velocity_kmh",
    "visibility",
    "footprint_km",
    "source",
    "producer_id",
    "sequence",
    "produced_at",
)
"""The raw position's fields in the order the enriched message carries them; the enrichment
fields follow in `EnrichedPosition`'s order (docs/contracts.md)."""

_RAW_TYPES = {field.name: field.type for field in msgspec.structs.fields(RawPosition)}
_ENRICHMENT = [
    (field.name, field.type)
    for field in msgspec.structs.fields(EnrichedPosition)
    if field.name != "raw"
]
_EnrichedRecord: Any = msgspec.defstruct(
    "_EnrichedRecord",
    [(name, _RAW_TYPES[name]) for name in WIRE_ORDER] + _ENRICHMENT,
    gc=False,
    tag_field="schema",
    tag=SCHEMA,
)
"""The flat wire layout, built from the two structs' own fields and encoded by msgspec in one C
pass. The tag puts `"schema": "iss.position.enriched/v1"` first; the fields follow in this
order. Timestamps are encoded by msgspec as RFC 3339 in UTC with a `Z`, with fractional seconds
only when they are not zero."""

_encode = msgspec.json.Encoder().encode


class EnrichedSummary(msgspec.Struct, frozen=True, gc=False):
    """What readers of the enriched topic (the live view, `iss-tracker status`) take from a
    message: where and when, and of which satellite. Every other field is skipped, so a message
    with fields a reader does not know still reads; the fields readers do not check are kept
    as they came (`Any`)."""

    event_time: str
    latitude: float
    longitude: float
    norad_id: Any = None
    altitude_km: Any = None
    source: Any = None

    @property
    def key(self) -> tuple[int, str]:
        """(norad_id, event_time), the identity readers drop repeats by; 0 without an integer id."""
        norad_id = self.norad_id
        if isinstance(norad_id, bool) or not isinstance(norad_id, int):
            norad_id = 0
        return norad_id, self.event_time


class InvalidEnrichedError(ValueError):
    """A value on the enriched topic without a position a reader can use; says why."""


_decode_summary = msgspec.json.Decoder(EnrichedSummary).decode


def decode_summary(value: bytes | None) -> EnrichedSummary:
    """The summary of one enriched message: a JSON object whose `latitude` and `longitude` are
    numbers (not booleans) and whose `event_time` is a string. Raises `InvalidEnrichedError`."""
    if value is None:
        raise InvalidEnrichedError("empty value")
    try:
        return _decode_summary(value)
    except msgspec.ValidationError as exc:
        raise InvalidEnrichedError(str(exc)) from exc
    except msgspec.DecodeError as exc:
        raise InvalidEnrichedError(f"not JSON: {exc}") from exc
    except RecursionError as exc:  # a skipped field nested deeper than the decoder can go
        raise InvalidEnrichedError("nested too deeply") from exc
