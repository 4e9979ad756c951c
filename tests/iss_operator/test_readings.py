from __future__ import annotations

import pytest

from iss_operator.readings import Observation, Unknown, UnknownReason, bounded

pytestmark = pytest.mark.unit


def test_a_reading_beyond_its_bound_is_unknown_not_acted_on() -> None:
    reading = bounded(Observation(1e308), -300.0, 1.8e9, "age in seconds")
    assert isinstance(reading, Unknown)
    assert reading.reason is UnknownReason.IMPLAUSIBLE
    assert "1e+308" in reading.detail


def test_readings_within_bounds_and_unknowns_pass_unchanged() -> None:
    assert bounded(Observation(12.5), -300.0, 1.8e9, "age") == Observation(12.5)
    down = Unknown(UnknownReason.TIMEOUT, "slow")
    assert bounded(down, 0.0, 1.0, "ratio") is down
    assert isinstance(bounded(Observation(-1.0), 0.0, 1.0, "ratio"), Unknown)
