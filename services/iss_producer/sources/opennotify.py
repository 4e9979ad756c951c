"""open-notify `iss-now.json`: unix seconds, latitude and longitude as strings, no altitude."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from iss_producer.errors import Rejected, RejectReason
from iss_producer.sources.fix import (
    Fix,
    as_number,
    check_coordinates,
    check_event_time,
    decode_object,
    require,
    unix_time,
)

NAME: Final = "open-notify"


def parse(
    body: bytes, *, now: datetime, norad_id: int, max_future_s: float, max_age_s: float
) -> Fix:
    """Turn an open-notify answer into a Fix, or raise Rejected saying why not."""
    obj = decode_object(body)
    message = obj.get("message")
    if message is not None and message != "success":
        raise Rejected(RejectReason.API_ERROR, f"message is {str(message)[:80]!r}, not 'success'")
    position = require(obj, "iss_position")
    if not isinstance(position, dict):
        raise Rejected(
            RejectReason.WRONG_TYPE, f"'iss_position' is {type(position).__name__}, not an object"
        )
    latitude = as_number("latitude", require(position, "latitude"), allow_string=True)
    longitude = as_number("longitude", require(position, "longitude"), allow_string=True)
    event_time = unix_time("timestamp", require(obj, "timestamp"), allow_string=True)
    check_coordinates(latitude, longitude)
    check_event_time(event_time, now, max_future_s=max_future_s, max_age_s=max_age_s)
    return Fix(
        norad_id=norad_id,
        name=None,
        event_time=event_time,
        latitude=latitude,
        longitude=longitude,
        source=NAME,
    )
