"""A restart the API server refuses, for real: status, Events and the retry say why.

A Role without `patch` on Deployments makes the restart Forbidden; a ValidatingAdmissionPolicy
(CEL, in the API server itself) that denies updates of the enricher's Deployment makes it fail
for another reason (RestartFailed). Either way nothing is restarted, no cooldown starts, and
once the obstacle is gone the next check restarts the stale enricher.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.support.operator import (
    Cluster,
    ControlPlane,
    OperatorProcess,
    PipelineMetrics,
    Prometheus,
    operator_account_kubeconfig,
    pipeline_manifest,
    rbac_for,
    stop_operator,
)
from tests.support.waits import wait_until

pytestmark = pytest.mark.controlplane


def _operator_that_may_not_patch_deployments(
    cluster: Cluster, controlplane: ControlPlane, tmp_path: Path
) -> OperatorProcess:
    kubeconfig = operator_account_kubeconfig(cluster, controlplane, tmp_path, patch_workloads=False)
    return OperatorProcess(
        controlplane, cluster.namespace, tmp_path / "operator.log", KUBECONFIG=str(kubeconfig)
    ).start()


def _freeze_policy(namespace: str) -> str:
    """Deny every update of the enricher's Deployment in `namespace`, in the API server."""
    name = f"freeze-{namespace}"
    selector = {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "namespaceSelector": selector,
                "resourceRules": [
                    {
                        "apiGroups": ["apps"],
                        "apiVersions": ["v1"],
                        "operations": ["UPDATE"],
                        "resources": ["deployments"],
                    }
                ],
            },
            "validations": [
                {
                    "expression": "object.metadata.name != 'iss-enricher'",
                    "message": "the enricher is frozen for maintenance",
                }
            ],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {
            "policyName": name,
            "validationActions": ["Deny"],
            "matchResources": {"namespaceSelector": selector},
        },
    }
    return yaml.safe_dump_all([policy, binding])


def _refused_then_restarted(
    cluster: Cluster,
    served: PipelineMetrics,
    name: str,
    reason: str,
    why: str,
    clear: Callable[[], None],
) -> None:
    cluster.wait_phase(name, "Healthy")
    before = cluster.restarted_at("iss-enricher")
    served.storing = False
    status = wait_until(
        lambda: (s := cluster.status(name)).get("reason") == reason and s,
        timeout=40,
        what=f"status reason {reason}",
    )
    assert "restart failed:" in status["message"]
    assert why in status["message"]
    assert cluster.restarted_at("iss-enricher") == before
    assert not status.get("restartHistory")  # no restart recorded: no cooldown started
    wait_until(lambda: reason in cluster.event_reasons(name), what=f"a {reason} Warning Event")
    warnings = [e for e in cluster.events(name) if e.get("reason") == reason]
    assert all(e.get("type") == "Warning" for e in warnings)

    clear()
    wait_until(
        lambda: cluster.restarted_at("iss-enricher") != before,
        timeout=40,
        what="the restart once the obstacle is gone",
    )
    wait_until(lambda: "Restarted" in cluster.event_reasons(name), what="the Restarted Event")


def test_a_forbidden_restart_is_reported_and_retried_once_allowed(
    cluster: Cluster,
    controlplane: ControlPlane,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
    tmp_path: Path,
) -> None:
    served, job = metrics
    process = _operator_that_may_not_patch_deployments(cluster, controlplane, tmp_path)
    try:
        name = cluster.apply_pipeline(pipeline_manifest("forbidden", prometheus.url, job))

        def allow() -> None:
            cluster.kubectl("apply", "-f", "-", input=rbac_for(cluster.namespace))

        _refused_then_restarted(cluster, served, name, "Forbidden", "not allowed to patch", allow)
    finally:
        stop_operator(cluster, process)


def test_a_restart_the_api_server_denies_is_restart_failed_and_retried_once_admitted(
    cluster: Cluster,
    operator: OperatorProcess,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
    controlplane: ControlPlane,
) -> None:
    served, job = metrics
    policy = _freeze_policy(cluster.namespace)
    controlplane.kubectl("apply", "-f", "-", input=policy)
    try:
        # The policy is in force once an update of the enricher is denied.
        patch = '{"metadata":{"annotations":{"probe":"1"}}}'
        wait_until(
            lambda: (
                cluster.kubectl(
                    "patch", "deployment", "iss-enricher", "-p", patch, check=False
                ).returncode
                != 0
            ),
            what="the admission policy to deny updates",
        )
        name = cluster.apply_pipeline(pipeline_manifest("denied", prometheus.url, job))

        def admit() -> None:
            controlplane.kubectl("delete", "-f", "-", input=policy)

        _refused_then_restarted(
            cluster, served, name, "RestartFailed", "frozen for maintenance", admit
        )
    finally:
        controlplane.kubectl("delete", "-f", "-", "--ignore-not-found", input=policy, check=False)
