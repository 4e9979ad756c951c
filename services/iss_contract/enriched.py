"""The enriched position message, `iss.position.enriched/v1`, written by the enricher."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iss_contract.jsonio import dumps
from iss_contract.raw import RawPosition
from iss_contract.timefmt import format_utc

SCHEMA = "iss.position.enriched/v1"


@dataclass(frozen=True, slots=True)
class EnrichedPosition:
    """A raw position plus everything the enricher derives from it and its predecessor."""

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
        # One literal rather than the raw record's dict plus an update: this runs per record.
        raw = self.raw
        produced_at = raw.produced_at
        return {
            "schema": SCHEMA,
            "norad_id": raw.norad_id,
            "name": raw.name,
            "event_time": format_utc(raw.event_time),
            "latitude": raw.latitude,
            "longitude": raw.longitude,
            "altitude_km": raw.altitude_km,
            "velocity_kmh": raw.velocity_kmh,
            "visibility": raw.visibility,
            "footprint_km": raw.footprint_km,
            "source": raw.source,
            "producer_id": raw.producer_id,
            "sequence": raw.sequence,
            "produced_at": None if produced_at is None else format_utc(produced_at),
            "ground_speed_kmh": self.ground_speed_kmh,
            "heading_deg": self.heading_deg,
            "orbital_speed_kmh": self.orbital_speed_kmh,
            "subsolar_latitude": self.subsolar_latitude,
            "subsolar_longitude": self.subsolar_longitude,
            "ground_daylight": self.ground_daylight,
            "satellite_sunlit": self.satellite_sunlit,
            "local_solar_time_h": self.local_solar_time_h,
            "footprint_radius_km": self.footprint_radius_km,
            "enriched_at": format_utc(self.enriched_at),
        }

    def to_bytes(self) -> bytes:
        return dumps(self.to_dict())
