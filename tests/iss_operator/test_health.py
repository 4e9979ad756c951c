from __future__ import annotations

import pytest

from iss_operator.health import Health

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_loop_that_stops_beating_is_named_once_its_limit_passes() -> None:
    clock = Clock()
    health = Health(clock=clock)
    health.beat("pipeline-a", max_age=30)
    health.beat("pipeline-b", max_age=30)
    clock.now += 20
    health.beat("pipeline-b", max_age=30)
    assert health.problems() == []
    clock.now += 11
    problems = health.problems()
    assert len(problems) == 1
    assert problems[0].startswith("pipeline-a: no progress for 31s")


def test_a_loop_that_ended_with_its_pipeline_is_no_problem() -> None:
    clock = Clock()
    health = Health(clock=clock)
    health.beat("gone", max_age=5)
    health.forget("gone")
    clock.now += 60
    assert health.problems() == []


def test_a_pipeline_without_a_loop_is_a_problem_after_the_grace() -> None:
    clock = Clock()
    health = Health(clock=clock, unserved_grace=60)
    health.audit(existing=["a", "b"], served=["a"])
    clock.now += 30
    health.audit(existing=["a", "b"], served=["a"])
    assert health.problems() == []
    clock.now += 31
    assert health.problems() == ["b: exists but has had no check loop for 61s"]
    health.beat("b", max_age=10)  # its loop started after all
    assert health.problems() == []


def test_a_list_the_api_server_keeps_refusing_is_a_problem_after_the_grace() -> None:
    clock = Clock()
    health = Health(clock=clock, unserved_grace=10)
    health.refusal("list-pipelines", "GET pipelines: HTTP 403: forbidden")
    clock.now += 5
    health.refusal("list-pipelines", "GET pipelines: HTTP 403: forbidden")
    assert health.problems() == []
    clock.now += 6
    assert health.problems() == [
        "list-pipelines: refused for 11s: GET pipelines: HTTP 403: forbidden"
    ]


def test_a_refusal_that_ended_is_no_problem() -> None:
    clock = Clock()
    health = Health(clock=clock, unserved_grace=10)
    health.refusal("list-pipelines", "HTTP 403")
    clock.now += 11
    health.refusal("list-pipelines", None)
    assert health.problems() == []
