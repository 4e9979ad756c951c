"""RFC 3339 timestamps in UTC, the only time format on the wire."""

from __future__ import annotations

from datetime import UTC, datetime


def format_utc(moment: datetime) -> str:
    """Render an aware datetime as RFC 3339 in UTC with microseconds and a `Z` suffix."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every timestamp on the wire must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime:
    """Parse an RFC 3339 timestamp that carries an explicit offset; return it in UTC."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return moment.astimezone(UTC)


def from_unix(seconds: float) -> datetime:
    """A unix time in seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=UTC)
