from datetime import UTC, datetime

import pytest

from iss_cli.report import Component, Limits, Measure, Position, Report, State, problems
from iss_cli.table import as_json, coordinates, duration, render

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 21, 15, 4, 5, tzinfo=UTC)
LATEST = Position(25544, AT, 51.23, -12.5, 418.2, "sgp4")


def healthy_report(**changes: object) -> Report:
    fields: dict[str, object] = {
        "target": "local stack",
        "at": AT,
        "components": [
            Component("kafka", State.UP, "127.0.0.1:19092, 3 topics"),
            Component("enricher", State.UP, "http://127.0.0.1:9102/metrics"),
            Component("operator", State.ABSENT, "not running", required=False),
        ],
        "stored_freshness_s": Measure(2.5, "newest row"),
        "input_freshness_s": Measure(0.8, "prometheus"),
        "consumer_lag": Measure(3, "group iss-enricher"),
        "dead_letters": Measure(7, "iss.positions.deadletter"),
        "latest": LATEST,
    }
    fields.update(changes)
    return Report(**fields)  # type: ignore[arg-type]


def test_a_healthy_stack_has_no_problems() -> None:
    assert problems(healthy_report(), Limits()) == []


def test_a_required_component_down_is_a_problem_but_an_absent_optional_one_is_not() -> None:
    report = healthy_report(
        components=[
            Component("enricher", State.DOWN, "connection refused"),
            Component("operator", State.ABSENT, "", required=False),
        ]
    )
    assert problems(report, Limits()) == ["enricher is down (connection refused)"]


def test_stale_data_is_a_problem() -> None:
    found = problems(healthy_report(stored_freshness_s=Measure(312.0)), Limits(max_freshness_s=60))
    assert found == ["stored data is 312 s old (limit 60 s)"]


def test_unmeasurable_freshness_is_a_problem() -> None:
    found = problems(healthy_report(stored_freshness_s=Measure(None)), Limits())
    assert found == ["no stored data freshness could be measured"]


def test_lag_over_the_limit_is_a_problem_and_unknown_lag_is_not() -> None:
    assert problems(healthy_report(consumer_lag=Measure(5000)), Limits(max_lag=1000)) == [
        "consumer lag is 5000 messages (limit 1000)"
    ]
    assert problems(healthy_report(consumer_lag=Measure(None)), Limits()) == []


def test_table_lists_components_data_and_verdict() -> None:
    text = render(healthy_report(), Limits(), [])
    assert text.splitlines() == [
        "ISS Tracker status: local stack  (2026-11-21 15:04:05Z)",
        "",
        "COMPONENT  STATE  DETAIL",
        "kafka      up     127.0.0.1:19092, 3 topics",
        "enricher   up     http://127.0.0.1:9102/metrics",
        "operator   -      not running",
        "",
        "DATA",
        "stored data      2.5 s old (limit 1 min 0 s)  (newest row)",
        "raw input        800 ms old  (prometheus)",
        "consumer lag     3 messages  (group iss-enricher)",
        "latest position  NORAD 25544 at 2026-11-21 15:04:05Z: 51.23°N 12.50°W, 418.2 km [sgp4]",
        "dead letters     7  (iss.positions.deadletter)",
        "",
        "HEALTHY",
    ]


def test_table_ends_with_each_problem_when_unhealthy() -> None:
    report = healthy_report(
        components=[Component("kafka", State.DOWN, "unreachable")],
        consumer_lag=Measure(None),
        latest=None,
    )
    found = problems(report, Limits())
    lines = render(report, Limits(), found).splitlines()
    assert "kafka      DOWN   unreachable" in lines
    assert "consumer lag     unknown" in lines
    assert "latest position  none" in lines
    assert lines[-2:] == ["UNHEALTHY", "  - kafka is down (unreachable)"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.25, "250 ms"), (4.2, "4.2 s"), (185, "3 min 5 s"), (7800, "2 h 10 min")],
)
def test_durations_read_naturally(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_southern_and_eastern_coordinates_are_labelled() -> None:
    south_east = Position(25544, AT, -10.0, 100.5, None, None)
    assert coordinates(south_east) == "NORAD 25544 at 2026-11-21 15:04:05Z: 10.00°S 100.50°E"


def test_json_output_carries_the_verdict() -> None:
    text = as_json(healthy_report(), ["x"])
    assert '"healthy": false' in text
    assert '"event_time": "2026-11-21T15:04:05+00:00"' in text
