from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import yaml

from iss_operator.kube import Credentials, Kube, load_credentials
from iss_operator.restart import RESTARTED_AT, RestartError, restart_patch, restart_workload
from iss_operator.spec import Workload, WorkloadKind
from tests.support.operator import Cluster, ControlPlane
from tests.support.ports import free_port
from tests.support.waits import wait_until

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
    workload = Workload(WorkloadKind.STATEFULSET, "iss-enricher-sts")
    asyncio.run(_restart(load_credentials(str(controlplane.kubeconfig)), cluster, workload))
    template = cluster.get("statefulset", "iss-enricher-sts")["spec"]["template"]
    assert template["metadata"]["annotations"] == {RESTARTED_AT: "2026-11-21T15:00:00Z"}
    wait_until(lambda: len(revisions()) == 2, what="a new ControllerRevision")


@pytest.mark.controlplane
def test_restarting_a_missing_workload_says_not_found(
    cluster: Cluster, controlplane: ControlPlane
) -> None:
    workload = Workload(WorkloadKind.DEPLOYMENT, "no-such-deployment")
    with pytest.raises(RestartError) as caught:
        asyncio.run(_restart(load_credentials(str(controlplane.kubeconfig)), cluster, workload))
    assert caught.value.reason == "WorkloadNotFound"
    assert "no-such-deployment" in str(caught.value)


async def _restart(
    credentials: Credentials, cluster: Cluster | None, workload: Workload, timeout: float = 5
) -> None:
    kube = Kube(credentials, timeout)
    try:
        await restart_workload(kube, cluster.namespace if cluster else "x", workload, NOW)
    finally:
        await kube.close()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An HTTP server that accepts connections and never answers, like a frozen API server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def _plain(server: str) -> Credentials:
    from kubernetes import client

    return Credentials(server, None, None, None, True, client.Configuration())


@pytest.mark.unit
def test_restart_patch_to_a_server_that_never_answers_fails_within_its_deadline(
    silent_server: str,
) -> None:
    workload = Workload(WorkloadKind.DEPLOYMENT, "iss-enricher")
    started = time.monotonic()
    with pytest.raises(RestartError) as caught:
        asyncio.run(_restart(_plain(silent_server), None, workload, timeout=1.0))
    assert time.monotonic() - started < 2.0
    assert caught.value.reason == "RestartFailed"
    assert "no answer in 1s" in str(caught.value)


@pytest.mark.unit
def test_restart_patch_with_no_server_listening_is_a_restart_failure_not_an_escape() -> None:
    port = free_port()
    workload = Workload(WorkloadKind.DEPLOYMENT, "iss-enricher")
    with pytest.raises(RestartError) as caught:
        asyncio.run(_restart(_plain(f"http://127.0.0.1:{port}"), None, workload))
    assert caught.value.reason == "RestartFailed"
