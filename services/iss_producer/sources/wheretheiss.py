"""wheretheiss.at `/v1/satellites/25544`: numbers, unix seconds, altitude km, velocity km/h.

The API answers in miles (altitude, footprint mi; velocity mph) when asked with `units=miles`;
its `units` field says which. Miles are converted to the contract's kilometres; any other unit is
rejected (`unknown_units`) rather than guessed. An answer without `units` is in kilometres, the
API's default.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from iss_contract.limits import ALTITUDE_MAX_KM, ALTITUDE_MIN_KM, FOOTPRINT_MAX_KM, SPEED_MAX_KMH
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
KM_PER_MILE: Final = 1.609344
_UNITS: dict[str, float] = {"kilometers": 1.0, "miles": KM_PER_MILE}
"""Kilometres per unit of length, by the API's `units` value."""


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

    units = obj.get("units", "kilometers")
    scale = _UNITS.get(units) if isinstance(units, str) else None
    if scale is None:
        raise Rejected(RejectReason.UNKNOWN_UNITS, f"units {str(units)[:40]!r} are not km or miles")
    altitude = _scaled(optional_number(obj, "altitude"), scale)
    velocity = _scaled(optional_number(obj, "velocity"), scale)
    footprint = _scaled(optional_number(obj, "footprint"), scale)
    # The contract's bounds (iss_contract.limits), as the enricher applies them.
    if altitude is not None and not ALTITUDE_MIN_KM < altitude <= ALTITUDE_MAX_KM:
        raise Rejected(RejectReason.OUT_OF_RANGE, f"altitude {altitude} km is not plausible")
    if velocity is not None and not 0.0 <= velocity <= SPEED_MAX_KMH:
        raise Rejected(RejectReason.OUT_OF_RANGE, f"velocity {velocity} km/h is out of range")
    if footprint is not None and not 0.0 <= footprint <= FOOTPRINT_MAX_KM:
        raise Rejected(RejectReason.OUT_OF_RANGE, f"footprint {footprint} km is out of range")
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


def _scaled(value: float | None, scale: float) -> float | None:
    return None if value is None else value * scale
