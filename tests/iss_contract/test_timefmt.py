"""RFC 3339 UTC timestamps: always microseconds and `Z`, whatever offset came in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from iss_contract.timefmt import format_utc, parse_utc

pytestmark = pytest.mark.unit


def test_whole_seconds_still_carry_microseconds_and_a_z() -> None:
    assert format_utc(datetime(2026, 9, 16, 1, 2, 3, tzinfo=UTC)) == "2026-09-16T01:02:03.000000Z"


def test_other_offsets_are_converted_to_utc() -> None:
    moment = datetime(2026, 9, 16, 1, 2, 3, 5, tzinfo=timezone(timedelta(hours=2)))
    assert format_utc(moment) == "2026-09-15T23:02:03.000005Z"
    assert format_utc(moment.astimezone(UTC)) == "2026-09-15T23:02:03.000005Z"


def test_a_naive_datetime_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match="naive"):
            format_utc(datetime(2026, 9, 16, 1, 2, 3))


def test_parsing_returns_utc_and_refuses_missing_offsets() -> None:
    for _ in range(2):
        parsed = parse_utc("2026-09-16T02:00:00.5+02:00")
        assert parsed == datetime(2026, 9, 16, 0, 0, 0, 500000, tzinfo=UTC)
        assert parsed.utcoffset() == timedelta(0)
        with pytest.raises(ValueError, match="no UTC offset"):
            parse_utc("2026-09-16T02:00:00")


def test_formatting_and_parsing_round_trip() -> None:
    moment = datetime(2026, 9, 16, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse_utc(format_utc(moment)) == moment
