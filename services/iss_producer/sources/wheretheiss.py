"""wheretheiss.at `/v1/satellites/25544`: numbers, unix seconds, altitude km, velocity km/h."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from iss_producer.errors import Rejected, RejectReason
from iss_producer.sources.fix import (
    Fix,
    Visibility,
    as_number,
    check_coordinates,
    check_event_time,
    decode_object,
    optional_number,
    require,
    unix_time,
)

NAME: Final = "wheretheiss"
_VISIBILITY: dict[str, Visibility] = {"daylight": "daylight", "eclipsed": "eclipsed"}


def parse(
    body: bytes, *, now: datetime, norad_id: int, max_future_s: float, max_age_s: float
) -> Fix:
    """Turn a wheretheiss.at answer into a Fix, or raise Rejected saying why not."""
    obj = decode_object(body)
    latitude = as_number("latitude", require(obj, "latitude"))
    longitude = as_number("longitude", require(obj, "longitude"))
    event_time = unix_time("timestamp", require(obj, "timestamp"))
    check_coordinates(latitude, longitude)
    check_event_time(event_time, now, max_future_s=max_future_s, max_age_s=max_age_s)
    answered_id = obj.get("id")
    if answered_id is not None and answered_id != norad_id:
        raise Rejected(RejectReason.OUT_OF_RANGE, f"answer is for id {answered_id}, not {norad_id}")

    altitude = optional_number(obj, "altitude")
    velocity = optional_number(obj, "velocity")
    footprint = optional_number(obj, "footprint")
    if altitude is not None and not 0.0 < altitude < 100_000.0:
        raise Rejected(RejectReason.OUT_OF_RANGE, f"altitude {altitude} km is not plausible")
    if velocity is not None and velocity < 0.0:
        raise Rejected(RejectReason.OUT_OF_RANGE, f"velocity {velocity} km/h is negative")
    if footprint is not None and footprint < 0.0:
        raise Rejected(RejectReason.OUT_OF_RANGE, f"footprint {footprint} km is negative")
    visibility = obj.get("visibility")
    name = obj.get("name")
    return Fix(
        norad_id=norad_id,
        name=name.upper() if isinstance(name, str) else None,
        event_time=event_time,
        latitude=latitude,
        longitude=longitude,
        source=NAME,
        altitude_km=altitude,
        velocity_kmh=velocity,
        visibility=_VISIBILITY.get(visibility) if isinstance(visibility, str) else None,
        footprint_km=footprint,
    )
