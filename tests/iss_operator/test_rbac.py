"""k8s/operator-rbac.yaml is enough for the operator, and no more than it needs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.iss_operator.fixtures import (
    Cluster,
    ControlPlane,
    OperatorProcess,
    PipelineMetrics,
    Prometheus,
    pipeline_manifest,
    wait_until,
)

pytestmark = pytest.mark.controlplane

RBAC = Path(__file__).parents[2] / "k8s" / "operator-rbac.yaml"


def _rbac_for(namespace: str) -> str:
    documents = list(yaml.safe_load_all(RBAC.read_text()))
    for document in documents:
        document["metadata"]["namespace"] = namespace
        for subject in document.get("subjects", []):
            subject["namespace"] = namespace
    return yaml.safe_dump_all(documents)


@pytest.fixture
def service_account_kubeconfig(
    cluster: Cluster, controlplane: ControlPlane, tmp_path: Path
) -> Path:
    """A kubeconfig holding only a token of the operator's ServiceAccount."""
    cluster.kubectl("apply", "-f", "-", input=_rbac_for(cluster.namespace))
    token = cluster.kubectl("create", "token", "iss-operator", "--duration=1h").stdout.strip()
    admin = yaml.safe_load(controlplane.kubeconfig.read_text())
    admin["users"] = [{"name": "iss-operator", "user": {"token": token}}]
    for context in admin["contexts"]:
        context["context"]["user"] = "iss-operator"
    path = tmp_path / "iss-operator.kubeconfig"
    path.write_text(yaml.safe_dump(admin))
    return path


def _can(cluster: Cluster, kubeconfig: Path, *args: str) -> bool:
    result = cluster.kubectl("--kubeconfig", str(kubeconfig), "auth", "can-i", *args, check=False)
    return result.stdout.strip() == "yes"


def test_service_account_may_patch_workloads_but_not_delete_or_read_secrets(
    cluster: Cluster, service_account_kubeconfig: Path
) -> None:
    allowed = [
        ("patch", "deployments.apps"),
        ("patch", "statefulsets.apps"),
        ("watch", "pipelines.iss-tracker.io"),
        ("patch", "pipelines.iss-tracker.io", "--subresource=status"),
        ("create", "events"),
        ("patch", "kopfpeerings.kopf.dev"),
    ]
    denied = [
        ("delete", "deployments.apps"),
        ("create", "deployments.apps"),
        ("delete", "pipelines.iss-tracker.io"),
        ("get", "secrets"),
        ("list", "pods"),
        ("list", "pipelines.iss-tracker.io", "--all-namespaces"),
        ("list", "customresourcedefinitions.apiextensions.k8s.io"),
        ("list", "namespaces"),
    ]
    for verb_and_resource in allowed:
        assert _can(cluster, service_account_kubeconfig, *verb_and_resource), verb_and_resource
    for verb_and_resource in denied:
        assert not _can(cluster, service_account_kubeconfig, *verb_and_resource), verb_and_resource


@pytest.fixture
def operator_as_service_account(
    cluster: Cluster,
    controlplane: ControlPlane,
    service_account_kubeconfig: Path,
    tmp_path: Path,
) -> Iterator[OperatorProcess]:
    process = OperatorProcess(
        controlplane,
        cluster.namespace,
        tmp_path / "operator.log",
        KUBECONFIG=str(service_account_kubeconfig),
    ).start()
    try:
        yield process
    finally:
        for name in cluster.pipelines:
            cluster.kubectl("delete", "pipeline", name, "--wait=true", "--timeout=30s", check=False)
        process.stop()


def test_operator_heals_with_only_its_namespaced_role(
    cluster: Cluster,
    operator_as_service_account: OperatorProcess,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
) -> None:
    served, job = metrics
    name = cluster.apply_pipeline(pipeline_manifest("rbac", prometheus.url, job))
    cluster.wait_phase(name, "Healthy")
    served.storing = False
    wait_until(lambda: cluster.restarted_at("iss-enricher"), timeout=40, what="enricher restart")
    wait_until(lambda: "Restarted" in cluster.event_reasons(name), what="the Restarted Event")
    log = operator_as_service_account.log()
    assert "Forbidden" not in log
    assert "403" not in log
