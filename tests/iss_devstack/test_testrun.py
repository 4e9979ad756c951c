"""`make test` sums up its three streams in one closing line that CI can read."""

from __future__ import annotations

import pytest

from iss_devstack.testrun import STREAMS, closing_line, counts_of, stream_of

pytestmark = pytest.mark.unit


def test_counts_come_from_the_closing_summary_line_only() -> None:
    log = "\n".join(
        [
            "tests/test_a.py ..F",
            "FAILED tests/test_a.py::test_x - assert 1 passed in a string",
            "===== 1 failed, 1024 passed, 4 deselected, 2 errors in 765.36s (0:12:45) =====",
        ]
    )

    assert counts_of(log) == {
        "passed": 1024,
        "failed": 1,
        "errors": 2,
        "skipped": 0,
        "deselected": 4,
    }


def test_a_log_without_a_summary_counts_nothing() -> None:
    assert counts_of("Traceback (most recent call last):\n  ...") == {
        "passed": 0,
        "failed": 0,
        "errors": 0,
        "skipped": 0,
        "deselected": 0,
    }


def test_the_closing_line_adds_errors_to_failures_across_streams() -> None:
    streams = [
        {"passed": 10, "failed": 0, "errors": 1},
        {"passed": 5, "failed": 2, "errors": 0, "skipped": 1},
    ]

    assert closing_line(streams) == "suite: 15 passed, 3 failed, 1 skipped"


def test_every_test_has_one_stream_and_the_long_waits_are_apart() -> None:
    streams = {s.name for s in STREAMS}
    cases = {
        (("e2e", "test_release.py"), ("node", "controlplane")): "machine",
        (("iss_devstack", "test_docker.py"), ("docker",)): "machine",
        (("iss_operator", "test_outages.py"), ("soak", "controlplane")): "outages",
        (("iss_operator", "test_handlers.py"), ("soak", "controlplane")): "tooling",
        (("iss_operator", "test_handlers.py"), ("controlplane",)): "platform",
        (("charts", "test_chart_render.py"), ()): "platform",
        (("iss_devstack", "test_stack.py"), ("services",)): "tooling",
        (("iss_dashboards", "test_queries.py"), ("unit",)): "tooling",
        (("benchmarks", "test_smoke.py"), ("controlplane",)): "benchmarks",
        (("iss_enricher", "test_main.py"), ("services",)): "main",
        (("iss_new_service", "test_anything.py"), ()): "main",
    }
    for (parts, markers), expected in cases.items():
        assert stream_of(parts, markers) == expected, parts
    assert {stream_of(parts, markers) for parts, markers in cases} == streams
