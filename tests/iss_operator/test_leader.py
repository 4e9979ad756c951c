from __future__ import annotations

import pytest

from iss_operator.leader import LeaseRecord, Move, next_move

pytestmark = pytest.mark.unit


def record(holder: str | None, duration: float = 15) -> LeaseRecord:
    return LeaseRecord(holder, duration, "2026-12-01T10:00:00.000000Z", "42")


def test_no_lease_yet_is_created() -> None:
    assert next_move(None, "me", 0) is Move.CREATE


def test_own_lease_is_renewed_whatever_its_age() -> None:
    assert next_move(record("me"), "me", 999) is Move.RENEW


def test_a_live_peer_keeps_the_lease() -> None:
    assert next_move(record("peer"), "me", 14.9) is Move.WAIT


def test_a_lease_unchanged_for_its_duration_is_taken() -> None:
    assert next_move(record("peer"), "me", 15) is Move.ACQUIRE


def test_a_released_lease_is_taken_at_once() -> None:
    assert next_move(record(None), "me", 0) is Move.ACQUIRE
