"""k8s/operator-rbac.yaml is enough for the operator, and no more than it needs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.operator import (
    Cluster,
    ControlPlane,
    OperatorProcess,
    PipelineMetrics,
    Prometheus,
    clear_finalizers,
    operator_account_kubeconfig,
    pipeline_manifest,
)
from tests.support.waits import wait_until

pytestmark = pytest.mark.controlplane


@pytest.fixture
def service_account_kubeconfig(
    cluster: Cluster, controlplane: ControlPlane, tmp_path: Path
) -> Path:
    """A kubeconfig holding only a token of the operator's ServiceAccount."""
    return operator_account_kubeconfig(cluster, controlplane, tmp_path)


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
        ("patch", "events"),
        ("create", "leases.coordination.k8s.io"),
        ("update", "leases.coordination.k8s.io"),
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


def test_operator_whose_watch_stream_fails_reports_unhealthy_and_exits_non_zero(
    cluster: Cluster,
    controlplane: ControlPlane,
    prometheus: Prometheus,
    metrics: tuple[PipelineMetrics, str],
    tmp_path: Path,
) -> None:
    """Without `watch` on pipelines, a new Pipeline never gets a check loop: /healthz says so,
    and outside a pod the process exits with status 3."""
    _, job = metrics
    kubeconfig = operator_account_kubeconfig(cluster, controlplane, tmp_path, watch=False)
    process = OperatorProcess(
        controlplane,
        cluster.namespace,
        tmp_path / "operator.log",
        KUBECONFIG=str(kubeconfig),
        ISS_OPERATOR_WATCH_AUDIT_SECONDS="2",
    ).start()
    try:
        # kopf lists first, then watches: create the Pipeline once the watch is refused.
        wait_until(lambda: "Request attempt" in process.log(), what="the watch to be refused")
        cluster.apply_pipeline(pipeline_manifest("unwatched", prometheus.url, job))
        report = wait_until(process.unhealthy_report, timeout=30, what="/healthz to answer 500")
        assert "has had no check loop" in str(report["problems"])
        assert process.process is not None
        assert process.process.wait(timeout=30) == 3
        assert "unhealthy, exiting" in process.log()
    finally:
        process.stop()
        sys.stderr.write(f"--- operator log ---\n{process.log()[-6000:]}\n")
        clear_finalizers(cluster)


def test_an_operator_refused_its_lease_reports_unhealthy_instead_of_standing_by_forever(
    cluster: Cluster, controlplane: ControlPlane, tmp_path: Path
) -> None:
    """A Role without leases: no replica could ever act, so /healthz says why and, outside a
    pod, the process exits with status 3."""
    kubeconfig = operator_account_kubeconfig(cluster, controlplane, tmp_path, leases=False)
    assert not _can(cluster, kubeconfig, "create", "leases.coordination.k8s.io")
    process = OperatorProcess(
        controlplane,
        cluster.namespace,
        tmp_path / "operator.log",
        KUBECONFIG=str(kubeconfig),
        ISS_OPERATOR_STANDALONE="false",
        ISS_OPERATOR_WATCH_AUDIT_SECONDS="2",
    ).start()
    try:
        report = wait_until(process.unhealthy_report, timeout=60, what="/healthz to answer 500")
        problems = str(report["problems"])
        assert "leader-election: refused" in problems
        assert "needs get, create and update on leases" in problems
        assert process.process is not None
        assert process.process.wait(timeout=30) == 3
    finally:
        process.stop()
        sys.stderr.write(f"--- operator log ---\n{process.log()[-4000:]}\n")
