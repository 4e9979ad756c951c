import random
from datetime import UTC, datetime

import pytest

from iss_producer.backoff import SourceGate, backoff_delay, jittered_delay, parse_retry_after

NOW = datetime(2026, 11, 21, 15, 0, 0, tzinfo=UTC)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("Sat, 21 Nov 2026 15:00:30 GMT", 30.0),
        ("Sat, 21 Nov 2026 14:00:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_in_seconds_or_http_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


@pytest.mark.unit
def test_jitter_stays_under_an_exponential_ceiling_capped_at_the_maximum() -> None:
    rng = random.Random(1)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (10, 60.0)]:
        delays = [jittered_delay(attempt, 1.0, 60.0, rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # spread over the whole range, not a constant


@pytest.mark.unit
def test_retry_after_is_honoured_even_when_the_jittered_delay_is_shorter() -> None:
    rng = random.Random(2)
    delays = [backoff_delay(1, 30.0, base_s=1.0, cap_s=300.0, rng=rng) for _ in range(100)]
    assert min(delays) >= 30.0
    assert max(delays) <= 30.1


@pytest.mark.unit
def test_retry_after_longer_than_the_cap_is_capped() -> None:
    delay = backoff_delay(1, 86400.0, base_s=1.0, cap_s=300.0, rng=random.Random(3))
    assert 300.0 <= delay <= 300.1


@pytest.mark.unit
def test_gate_paces_requests_and_blocks_during_backoff() -> None:
    gate = SourceGate(min_interval_s=5.0)
    assert not gate.paced(100.0)
    gate.requested(100.0)
    assert gate.paced(104.9)
    assert not gate.paced(105.0)
    gate.back_off(105.0, 10.0)
    assert gate.in_backoff(114.9)
    assert not gate.in_backoff(115.0)
