"""The raw position message, `iss.position.raw/v1`, written by the producer."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

import msgspec

from iss_contract.timefmt import format_utc

SCHEMA = "iss.position.raw/v1"

Source = Literal["wheretheiss", "open-notify", "sgp4"]
SOURCES: tuple[Source, ...] = ("wheretheiss", "open-notify", "sgp4")
Visibility = Literal["daylight", "eclipsed"]

_KEYS_KEPT = 100_000
_KEYS: dict[int, bytes] = {}
"""Kafka keys by NORAD id, made once each (the whole catalogue is about 60,000 objects)."""


class RawPosition(msgspec.Struct, frozen=True, gc=False):
    """One observed or propagated position of one satellite.

    An immutable msgspec struct rather than a validating model: the enricher builds tens of
    thousands of these per second, and a struct is built several times faster than a frozen
    dataclass. It holds no containers, so the garbage collector need not track it. Validation
    lives in `iss_contract.validate`.
    """

    norad_id: int
    event_time: datetime
    latitude: float
    longitude: float
    source: Source
    producer_id: str
    sequence: int
    produced_at: datetime | None = None
    name: str | None = None
    altitude_km: float | None = None
    velocity_kmh: float | None = None
    visibility: Visibility | None = None
    footprint_km: float | None = None

    @property
    def key(self) -> bytes:
        """The Kafka key: the NORAD id in ASCII decimal."""
        key = _KEYS.get(self.norad_id)
        if key is None:
            key = str(self.norad_id).encode("ascii")
            if len(_KEYS) < _KEYS_KEPT:
                _KEYS[self.norad_id] = key
        return key

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "norad_id": self.norad_id,
            "name": self.name,
            "event_time": format_utc(self.event_time),
            "latitude": self.latitude,
            "longitude": self.longitude,
            "altitude_km": self.altitude_km,
            "velocity_kmh": self.velocity_kmh,
            "visibility": self.visibility,
            "footprint_km": self.footprint_km,
            "source": self.source,
            "producer_id": self.producer_id,
            "sequence": self.sequence,
            "produced_at": None if self.produced_at is None else format_utc(self.produced_at),
        }

    def to_bytes(self) -> bytes:
        # The standard library's encoding (ASCII escapes, Python float repr) on purpose: the
        # producer's fast encoder writes exactly these bytes, and a test holds them equal.
        return json.dumps(self.to_dict(), separators=(",", ":")).encode("utf-8")
