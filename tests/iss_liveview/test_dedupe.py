from __future__ import annotations

import pytest

from iss_liveview.dedupe import RecentPositions

pytestmark = pytest.mark.unit


def test_a_key_is_new_once_and_a_repeat_after() -> None:
    recent = RecentPositions(10)
    assert recent.first_time((25544, "2026-11-21T15:04:05Z"))
    assert not recent.first_time((25544, "2026-11-21T15:04:05Z"))
    assert recent.first_time((20580, "2026-11-21T15:04:05Z"))


def test_the_oldest_keys_are_forgotten_beyond_the_capacity() -> None:
    recent = RecentPositions(3)
    for second in range(4):
        assert recent.first_time((1, f"{second}"))
    assert len(recent) == 3
    assert recent.first_time((1, "0"))  # forgotten, so it passes again
    assert not recent.first_time((1, "3"))


def test_a_repeat_refreshes_its_key() -> None:
    recent = RecentPositions(2)
    recent.first_time((1, "a"))
    recent.first_time((1, "b"))
    assert not recent.first_time((1, "a"))  # "a" is now the newest
    recent.first_time((1, "c"))  # forgets "b"
    assert not recent.first_time((1, "a"))
    assert recent.first_time((1, "b"))
