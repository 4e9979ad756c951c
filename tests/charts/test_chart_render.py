"""The chart lints and renders for every scenario, and the API server accepts every object.

Validation is the real kube-apiserver's (`kubectl apply --dry-run=server`, strict field
validation), with the Strimzi 1.2.0 CRDs and the chart's CRDs installed: that checks the
Kubernetes schemas of the pinned version and the Kafka, KafkaNodePool and KafkaTopic schemas.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from tests.support.chart import (
    CHART,
    CI_VALUES,
    KUBE_VERSION,
    render,
    wait_for_default_service_account,
)

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


def test_api_server_rejects_an_unknown_field_in_a_pod_monitor(
    controlplane: ControlPlane, chart_crds: list[str], namespace: str
) -> None:
    """The prometheus-operator CRDs are installed and checked, not merely accepted."""
    rendered = render(
        controlplane, namespace=namespace, values_files=[CHART / "ci" / "monitoring-values.yaml"]
    )
    monitor = rendered.of_kind("PodMonitor")[0]
    monitor["spec"]["podMetricsEndpoints"][0]["intervall"] = "15s"
    result = controlplane.kubectl(
        "apply",
        "--dry-run=server",
        "--validate=strict",
        "-n",
        namespace,
        "-f",
        "-",
        input=yaml.safe_dump(monitor),
        check=False,
    )
    assert result.returncode != 0
    assert "intervall" in result.stderr


def strimzi_container_contexts(kafka: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The security context the chart gives each container Strimzi runs, by template path."""
    spec = kafka["spec"]
    found = {
        f"kafka.{name}": spec["kafka"]["template"][name]["securityContext"]
        for name in ("kafkaContainer", "initContainer")
    }
    for name, template in spec["entityOperator"]["template"].items():
        if name.endswith("Container"):
            found[f"entityOperator.{name}"] = template["securityContext"]
    found["kafkaExporter.container"] = spec["kafkaExporter"]["template"]["container"][
        "securityContext"
    ]
    return found


def strimzi_like_pod(name: str, context: dict[str, Any]) -> dict[str, Any]:
    """A pod as Strimzi builds one: its own pod context (fsGroup 0 for the data volumes), the
    container context from the Kafka resource's template."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name.lower().replace(".", "-")},
        "spec": {
            "securityContext": {"fsGroup": 0},
            "containers": [{"name": "c", "image": "strimzi", "securityContext": context}],
            "volumes": [{"name": "data", "emptyDir": {}}],
        },
    }


def test_every_container_strimzi_runs_passes_pod_security_restricted(
    controlplane: ControlPlane, chart_crds: list[str], namespace: str
) -> None:
    """Strimzi cannot run here: its pods are rebuilt from the chart's contexts and admitted by
    the API server's Pod Security admission in a namespace that enforces "restricted"."""
    controlplane.kubectl(
        "label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted"
    )
    wait_for_default_service_account(controlplane, namespace)
    rendered = render(
        controlplane, namespace=namespace, values_files=[CHART / "ci" / "secure-values.yaml"]
    )
    contexts = strimzi_container_contexts(rendered.of_kind("Kafka")[0])
    assert {"entityOperator.topicOperatorContainer", "kafka.kafkaContainer"} <= set(contexts)

    for name, context in contexts.items():
        result = controlplane.kubectl(
            "apply", "--dry-run=server", "-n", namespace, "-f", "-",
            input=yaml.safe_dump(strimzi_like_pod(name, context)), check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"{name}: {result.stderr}"

    # The admission really checks: the chart's plain context lacks the seccomp profile.
    plain = rendered.component("Deployment", "producer")["spec"]["template"]["spec"]
    refused = controlplane.kubectl(
        "apply", "--dry-run=server", "-n", namespace, "-f", "-",
        input=yaml.safe_dump(strimzi_like_pod("plain", plain["containers"][0]["securityContext"])),
        check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert 'violates PodSecurity "restricted' in refused.stderr


def test_every_pod_template_of_the_secure_scenario_meets_pod_security_restricted(
    controlplane: ControlPlane, chart_crds: list[str], namespace: str
) -> None:
    """Pod Security admission warns about workloads whose pods it would refuse."""
    controlplane.kubectl(
        "label", "namespace", namespace, "pod-security.kubernetes.io/warn=restricted"
    )
    wait_for_default_service_account(controlplane, namespace)
    rendered = render(
        controlplane, namespace=namespace, values_files=[CHART / "ci" / "secure-values.yaml"]
    )

    result = controlplane.kubectl(
        "apply", "--dry-run=server", "--validate=strict", "-n", namespace, "-f", "-",
        input=rendered.text, check=False, timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "PodSecurity" not in result.stderr, result.stderr
    # The warning is real: the producer without its pod context draws one.
    producer = rendered.component("Deployment", "producer")
    del producer["spec"]["template"]["spec"]["securityContext"]
    warned = controlplane.kubectl(
        "apply", "--dry-run=server", "-n", namespace, "-f", "-",
        input=yaml.safe_dump(producer), check=False,
    )  # fmt: skip
    assert 'would violate PodSecurity "restricted' in warned.stderr
