from datetime import UTC, datetime, timedelta

import pytest

from iss_contract.raw import Source
from iss_producer.errors import Rejected, RejectReason
from iss_producer.sources.fix import Fix, TimestampGuard

T0 = datetime(2026, 11, 21, 15, 0, 0, tzinfo=UTC)


def fix(at: datetime, source: Source = "wheretheiss", norad_id: int = 25544) -> Fix:
    return Fix(
        norad_id=norad_id, name=None, event_time=at, latitude=0.0, longitude=0.0, source=source
    )


@pytest.mark.unit
def test_repeated_timestamp_is_rejected() -> None:
    guard = TimestampGuard()
    guard.check(fix(T0))
    with pytest.raises(Rejected) as caught:
        guard.check(fix(T0))
    assert caught.value.reason is RejectReason.REPEATED_TIMESTAMP


@pytest.mark.unit
def test_timestamp_going_backwards_is_rejected() -> None:
    guard = TimestampGuard()
    guard.check(fix(T0))
    with pytest.raises(Rejected):
        guard.check(fix(T0 - timedelta(seconds=1)))


@pytest.mark.unit
def test_newer_timestamp_is_accepted_after_a_rejected_repeat() -> None:
    guard = TimestampGuard()
    guard.check(fix(T0))
    with pytest.raises(Rejected):
        guard.check(fix(T0))
    guard.check(fix(T0 + timedelta(seconds=1)))


@pytest.mark.unit
def test_sources_and_satellites_are_tracked_separately() -> None:
    guard = TimestampGuard()
    guard.check(fix(T0))
    guard.check(fix(T0, source="open-notify"))
    guard.check(fix(T0, norad_id=20580))
