from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import yaml
from kubernetes import client, config

from iss_operator.restart import RESTARTED_AT, RestartError, restart_patch, restart_workload
from iss_operator.spec import Workload, WorkloadKind
from tests.iss_operator.fixtures import Cluster, ControlPlane, wait_until

NOW = datetime(2026, 11, 21, 15, 0, 0, tzinfo=UTC)


@pytest.mark.unit
def test_restart_patch_sets_the_same_annotation_as_kubectl_rollout_restart() -> None:
    patch = restart_patch(NOW)
    assert patch["spec"]["template"]["metadata"]["annotations"] == {
        RESTARTED_AT: "2026-11-21T15:00:00Z"
    }


def _statefulset(name: str) -> str:
    labels = {"app.kubernetes.io/name": name}
    return yaml.safe_dump(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": name},
            "spec": {
                "serviceName": name,
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "main", "image": "registry.invalid/x:1"}]},
                },
            },
        }
    )


@pytest.mark.controlplane
def test_statefulset_restart_is_a_template_patch_the_controller_rolls_out(
    cluster: Cluster, controlplane: ControlPlane
) -> None:
    cluster.kubectl("apply", "-f", "-", input=_statefulset("iss-enricher-sts"))

    def revisions() -> list[str]:
        return cluster.kubectl(
            "get",
            "controllerrevisions",
            "-l",
            "app.kubernetes.io/name=iss-enricher-sts",
            "-o",
            "name",
        ).stdout.split()

    wait_until(lambda: len(revisions()) == 1, what="the first ControllerRevision")
    apps = client.AppsV1Api(config.new_client_from_config(str(controlplane.kubeconfig)))
    workload = Workload(WorkloadKind.STATEFULSET, "iss-enricher-sts")
    asyncio.run(restart_workload(apps, cluster.namespace, workload, NOW))
    template = cluster.get("statefulset", "iss-enricher-sts")["spec"]["template"]
    assert template["metadata"]["annotations"] == {RESTARTED_AT: "2026-11-21T15:00:00Z"}
    wait_until(lambda: len(revisions()) == 2, what="a new ControllerRevision")


@pytest.mark.controlplane
def test_restarting_a_missing_workload_says_not_found(
    cluster: Cluster, controlplane: ControlPlane
) -> None:
    apps = client.AppsV1Api(config.new_client_from_config(str(controlplane.kubeconfig)))
    workload = Workload(WorkloadKind.DEPLOYMENT, "no-such-deployment")
    with pytest.raises(RestartError) as caught:
        asyncio.run(restart_workload(apps, cluster.namespace, workload, NOW))
    assert caught.value.reason == "WorkloadNotFound"
    assert "no-such-deployment" in str(caught.value)
