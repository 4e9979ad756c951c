import pytest

from iss_producer.chain import FallbackChain

SOURCES = ["wheretheiss", "open-notify", "sgp4"]


def chain() -> FallbackChain:
    return FallbackChain(SOURCES, failures_to_switch=3, probe_interval_s=60.0, now=0.0)


@pytest.mark.unit
def test_primary_is_asked_first_with_the_rest_as_stand_ins() -> None:
    assert chain().candidates(0.0) == SOURCES


@pytest.mark.unit
def test_fewer_failures_than_the_threshold_keep_the_active_source() -> None:
    c = chain()
    c.record_failure("wheretheiss", 1.0)
    c.record_failure("wheretheiss", 2.0)
    c.record_success("wheretheiss", 3.0)
    c.record_failure("wheretheiss", 4.0)
    c.record_failure("wheretheiss", 5.0)
    assert c.active == "wheretheiss"


@pytest.mark.unit
def test_consecutive_failures_switch_to_the_next_source() -> None:
    c = chain()
    for t in (1.0, 2.0, 3.0):
        c.record_failure("wheretheiss", t)
    assert c.active == "open-notify"
    assert c.candidates(4.0) == ["open-notify", "sgp4"]
    for t in (5.0, 6.0, 7.0):
        c.record_failure("open-notify", t)
    assert c.active == "sgp4"


@pytest.mark.unit
def test_last_source_stays_active_whatever_happens() -> None:
    c = FallbackChain(["sgp4"], failures_to_switch=1, probe_interval_s=60.0, now=0.0)
    c.record_failure("sgp4", 1.0)
    assert c.active == "sgp4"


@pytest.mark.unit
def test_primary_is_probed_after_the_interval_and_a_success_switches_back() -> None:
    c = chain()
    for t in (1.0, 2.0, 3.0):
        c.record_failure("wheretheiss", t)
    assert c.candidates(62.9) == ["open-notify", "sgp4"]
    assert c.candidates(63.0) == ["wheretheiss", "open-notify", "sgp4"]
    c.record_success("wheretheiss", 63.1)
    assert c.active == "wheretheiss"


@pytest.mark.unit
def test_failed_probe_waits_a_full_interval_before_the_next() -> None:
    c = chain()
    for t in (1.0, 2.0, 3.0):
        c.record_failure("wheretheiss", t)
    assert c.candidates(63.0)[0] == "wheretheiss"
    c.record_failure("wheretheiss", 63.0)
    assert c.active == "open-notify"
    assert c.candidates(100.0)[0] == "open-notify"
    assert c.candidates(123.0)[0] == "wheretheiss"


@pytest.mark.unit
def test_stand_in_success_does_not_change_the_active_source() -> None:
    c = chain()
    c.record_failure("wheretheiss", 1.0)
    c.record_success("open-notify", 1.1)
    assert c.active == "wheretheiss"
