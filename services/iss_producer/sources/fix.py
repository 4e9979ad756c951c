"""A position as a source reports it, and the checks every source shares."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from iss_contract.raw import Source
from iss_producer.errors import Rejected, RejectReason

Visibility = Literal["daylight", "eclipsed"]


@dataclass(frozen=True, slots=True)
class Fix:
    """One position of one satellite, before it gets a sequence number and a send time."""

    norad_id: int
    name: str | None
    event_time: datetime
    latitude: float
    longitude: float
    source: Source
    altitude_km: float | None = None
    velocity_kmh: float | None = None
    visibility: Visibility | None = None
    footprint_km: float | None = None


def decode_object(body: bytes) -> dict[str, object]:
    """Decode a JSON object body, rejecting empty bodies, HTML pages and non-objects."""
    text_start = body.lstrip()[:64].lower()
    if not text_start:
        raise Rejected(RejectReason.EMPTY_BODY, "empty response body")
    if text_start.startswith((b"<!doctype", b"<html", b"<")):
        raise Rejected(RejectReason.HTML_BODY, f"HTML instead of JSON: {body[:80]!r}")
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Rejected(RejectReason.INVALID_JSON, f"{exc}; body starts {body[:80]!r}") from exc
    if not isinstance(value, dict):
        raise Rejected(
            RejectReason.NOT_AN_OBJECT, f"expected a JSON object, got {type(value).__name__}"
        )
    return value


def require(obj: dict[str, object], field: str) -> object:
    """The value of a required field."""
    if field not in obj or obj[field] is None:
        raise Rejected(RejectReason.MISSING_FIELD, f"field {field!r} is missing")
    return obj[field]


def as_number(field: str, value: object, *, allow_string: bool = False) -> float:
    """A finite float from a JSON number (or a numeric string where the API sends strings)."""
    if isinstance(value, bool):
        raise Rejected(RejectReason.WRONG_TYPE, f"field {field!r} is a boolean, not a number")
    if isinstance(value, int | float):
        number = float(value)
    elif allow_string and isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise Rejected(
                RejectReason.WRONG_TYPE, f"field {field!r} is not numeric: {value[:40]!r}"
            ) from None
    else:
        raise Rejected(
            RejectReason.WRONG_TYPE, f"field {field!r} is {type(value).__name__}, not a number"
        )
    if not math.isfinite(number):
        raise Rejected(RejectReason.NOT_FINITE, f"field {field!r} is {number}")
    return number


def optional_number(obj: dict[str, object], field: str) -> float | None:
    """A finite float, or None when the field is absent or null."""
    value = obj.get(field)
    return None if value is None else as_number(field, value)


def check_coordinates(latitude: float, longitude: float) -> None:
    """Reject a latitude outside [-90, 90] or a longitude outside [-180, 180]."""
    if not -90.0 <= latitude <= 90.0:
        raise Rejected(RejectReason.OUT_OF_RANGE, f"latitude {latitude} outside [-90, 90]")
    if not -180.0 <= longitude <= 180.0:
        raise Rejected(RejectReason.OUT_OF_RANGE, f"longitude {longitude} outside [-180, 180]")


def unix_time(field: str, value: object, *, allow_string: bool = False) -> datetime:
    """A UTC datetime from unix seconds."""
    seconds = as_number(field, value, allow_string=allow_string)
    if seconds <= 0:
        raise Rejected(RejectReason.OUT_OF_RANGE, f"field {field!r} is {seconds}, not a unix time")
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise Rejected(RejectReason.OUT_OF_RANGE, f"field {field!r}={seconds}: {exc}") from exc


def check_event_time(
    event_time: datetime, now: datetime, *, max_future_s: float, max_age_s: float
) -> None:
    """Reject a timestamp too far ahead of `now` or too far behind it."""
    delta = (event_time - now).total_seconds()
    if delta > max_future_s:
        raise Rejected(
            RejectReason.FUTURE_TIMESTAMP,
            f"timestamp {event_time.isoformat()} is {delta:.1f} s ahead of the local clock",
        )
    if -delta > max_age_s:
        raise Rejected(
            RejectReason.STALE_TIMESTAMP,
            f"timestamp {event_time.isoformat()} is {-delta:.1f} s old (limit {max_age_s} s)",
        )


class TimestampGuard:
    """Rejects a source timestamp that is not newer than the last accepted one of that source."""

    def __init__(self) -> None:
        self._last: dict[str, datetime] = {}

    def check(self, fix: Fix) -> None:
        """Raise Rejected for a repeated or backwards timestamp; otherwise remember this one."""
        key = f"{fix.source}/{fix.norad_id}"
        last = self._last.get(key)
        if last is not None and fix.event_time <= last:
            raise Rejected(
                RejectReason.REPEATED_TIMESTAMP,
                f"timestamp {fix.event_time.isoformat()} is not newer than the last accepted "
                f"{last.isoformat()}",
            )
        self._last[key] = fix.event_time
