"""RFC 3339 timestamps in UTC, the only time format on the wire.

Both directions keep a small memo (`functools.lru_cache`): a stream of positions repeats the same
instants (a catalogue reports thousands of objects at one second; every record of a batch shares
its `enriched_at`). Equal instants in any offset share one entry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

import msgspec

_MEMO_SIZE = 4096


@lru_cache(maxsize=_MEMO_SIZE)
def format_utc(moment: datetime) -> str:
    """Render an aware datetime as RFC 3339 in UTC with microseconds and a `Z` suffix."""
    if moment.tzinfo is not UTC:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("naive datetime: every timestamp on the wire must be timezone-aware")
        moment = moment.astimezone(UTC)
    text = "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (  # noqa: UP031  # faster than strftime
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
    )
    return text


@lru_cache(maxsize=_MEMO_SIZE)
def parse_utc(text: str) -> datetime:
    """Parse a timestamp that carries an explicit offset; return it in UTC.

    RFC 3339 is read as msgspec reads it (so the enricher's typed decoder and this function
    agree: lower-case `t`/`z` allowed, digits beyond microseconds rounded); other ISO 8601 forms
    that Python reads (`20261121T150000Z`, `15:00Z`) are accepted too.
    """
    try:
        moment = msgspec.convert(text, datetime)
    except msgspec.ValidationError:
        moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment


def from_unix(seconds: float) -> datetime:
    """A unix time in seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=UTC)
