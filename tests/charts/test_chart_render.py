"""The chart lints and renders for every scenario, and the API server accepts every object.

Validation is the real kube-apiserver's (`kubectl apply --dry-run=server`, strict field
validation), with the Strimzi 1.2.0 CRDs and the chart's CRDs installed: that checks the
Kubernetes schemas of the pinned version and the Kafka, KafkaNodePool and KafkaTopic schemas.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from tests.charts.conftest import wait_for_default_service_account
from tests.charts.fixtures import CHART, CI_VALUES, KUBE_VERSION, render

if TYPE_CHECKING:
    from iss_devstack.controlplane import ControlPlane

pytestmark = pytest.mark.controlplane

SCENARIOS = [pytest.param((), id="defaults")] + [
    pytest.param((path,), id=path.name) for path in CI_VALUES
]


def test_there_are_ci_scenarios_besides_the_defaults() -> None:
    assert len(CI_VALUES) >= 3, [p.name for p in CI_VALUES]


@pytest.mark.parametrize("values_files", SCENARIOS)
def test_chart_lints_strictly(controlplane: ControlPlane, values_files: tuple[Path, ...]) -> None:
    args = ["lint", "--strict", "--kube-version", KUBE_VERSION, str(CHART)]
    for path in values_files:
        args += ["--values", str(path)]
    result = controlplane.helm(*args, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("values_files", SCENARIOS)
def test_api_server_accepts_every_rendered_object(
    controlplane: ControlPlane,
    chart_crds: list[str],
    namespace: str,
    values_files: tuple[Path, ...],
) -> None:
    rendered = render(controlplane, namespace=namespace, values_files=values_files)
    wait_for_default_service_account(controlplane, namespace)
    result = controlplane.kubectl(
        "apply",
        "--dry-run=server",
        "--validate=strict",
        "-n",
        namespace,
        "-f",
        "-",
        input=rendered.text,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    accepted = [line for line in result.stdout.splitlines() if "(server dry run)" in line]
    assert len(accepted) == len(rendered.objects), result.stdout


def test_api_server_rejects_an_unknown_field_in_a_strimzi_resource(
    controlplane: ControlPlane, chart_crds: list[str], namespace: str
) -> None:
    """The validation above is only worth something if a wrong Kafka field fails it."""
    rendered = render(controlplane, namespace=namespace)
    topic = rendered.of_kind("KafkaTopic")[0]
    topic["spec"]["partitionz"] = 3
    result = controlplane.kubectl(
        "apply",
        "--dry-run=server",
        "--validate=strict",
        "-n",
        namespace,
        "-f",
        "-",
        input=yaml.safe_dump(topic),
        check=False,
    )
    assert result.returncode != 0
    assert "partitionz" in result.stderr
