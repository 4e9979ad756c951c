"""Which Pipelines an operator handles (its label selector) and how it marks them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from iss_operator.handlers import finalizer_name
from iss_operator.selector import SelectorError, format_selector, parse_selector
from iss_operator.settings import OperatorSettings


def test_a_release_selector_requires_each_of_its_labels() -> None:
    labels = parse_selector("app.kubernetes.io/instance=a, app.kubernetes.io/name==iss-tracker")
    assert labels == {"app.kubernetes.io/instance": "a", "app.kubernetes.io/name": "iss-tracker"}


def test_an_empty_selector_selects_every_pipeline() -> None:
    assert parse_selector("") == {}
    assert OperatorSettings().pipeline_labels == {}


def test_the_list_request_sees_the_same_labels_as_the_watch() -> None:
    labels = {"b": "2", "a": "1"}
    assert format_selector(labels) == "a=1,b=2"
    assert parse_selector(format_selector(labels)) == labels


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("release", "expected key=value"),
        ("release!=a", "only key=value"),
        ("release in (a,b)", "only key=value"),
        ("bad key=a", "label key"),
        ("Upper.Case/x=a", "prefix must be a DNS subdomain"),
        ("release=" + "v" * 64, "at most 63"),
        ("release=a,release=b", "cannot be both"),
    ],
)
def test_a_selector_that_kubernetes_would_read_differently_is_refused(text: str, said: str) -> None:
    with pytest.raises(SelectorError, match=said):
        parse_selector(text)


def test_the_operator_refuses_to_start_on_a_bad_selector_and_says_which_variable(
    tmp_path: Path,
) -> None:
    script = Path(sys.executable).parent / "iss-operator"
    result = subprocess.run(
        [str(script)],
        env={"ISS_OPERATOR_PIPELINE_SELECTOR": "release!=a", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "invalid configuration" in result.stderr
    assert "pipeline_selector" in result.stderr
    assert "only key=value terms are supported" in result.stderr
    assert "Traceback" not in result.stderr


def test_each_operator_puts_a_finalizer_of_its_own_named_after_its_lease() -> None:
    assert finalizer_name("north-iss-tracker-operator") == (
        "iss-tracker.io/north-iss-tracker-operator"
    )
    assert finalizer_name("x" * 80) == "iss-tracker.io/" + "x" * 63
    assert finalizer_name("a b") == "iss-tracker.io/a-b"
