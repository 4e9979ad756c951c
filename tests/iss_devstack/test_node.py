"""The local node: a pod runs, its Service answers by name, and a stop leaves nothing behind."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from iss_devstack.controlplane import ControlPlane
from iss_devstack.errors import DevstackError
from iss_devstack.images import ref
from iss_devstack.node import Node
from iss_devstack.settings import DevstackSettings
from tests.support.localnode import image_archives, resolve, start_node

pytestmark = pytest.mark.node

NAMESPACE = "node-check"


@pytest.fixture(scope="module")
def node(
    devstack_settings: DevstackSettings,
    local_images: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ControlPlane, Node]]:
    archives = image_archives(devstack_settings, local_images, ["pause"])
    controlplane, node = start_node(
        devstack_settings, tmp_path_factory.mktemp("localnode"), archives
    )
    yield controlplane, node
    node.stop()
    controlplane.stop()


def _eventually(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return True


def _nat_rules() -> str:
    return subprocess.run(["iptables-save", "-t", "nat"], capture_output=True, text=True).stdout


def _pod_and_service() -> str:
    image = ref("pause")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "sleeper", "namespace": NAMESPACE, "labels": {"app": "sleeper"}},
        "spec": {
            "containers": [
                {
                    "name": "sleeper",
                    "image": image,
                    "imagePullPolicy": "Never",
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
            "terminationGracePeriodSeconds": 1,
        },
    }
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": NAMESPACE},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "sleeper", "namespace": NAMESPACE},
        "spec": {"selector": {"app": "sleeper"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [claim, pod, service]})


def test_a_pod_with_a_claimed_volume_runs_and_its_service_resolves_through_the_cluster_dns(
    node: tuple[ControlPlane, Node],
) -> None:
    controlplane, local = node
    controlplane.create_namespace(NAMESPACE)
    controlplane.kubectl("apply", "-f", "-", input=_pod_and_service())
    controlplane.kubectl(
        "wait", "--for=condition=Ready", "pod/sleeper", "-n", NAMESPACE, "--timeout=120s"
    )
    pod_ip = controlplane.kubectl(
        "get", "pod", "sleeper", "-n", NAMESPACE, "-o", "jsonpath={.status.podIP}"
    ).stdout
    assert pod_ip.startswith(local.settings.pod_cidr.rsplit(".", 2)[0])
    cluster_ip = controlplane.kubectl(
        "get", "service", "sleeper", "-n", NAMESPACE, "-o", "jsonpath={.spec.clusterIP}"
    ).stdout
    name = f"sleeper.{NAMESPACE}.svc.cluster.local"
    assert _eventually(lambda: resolve(local.dns_address, name) == [cluster_ip])
    assert resolve(local.dns_address, "kubernetes.default.svc.cluster.local") == ["10.0.0.1"]
    assert _eventually(lambda: f"-d {cluster_ip}/32" in _nat_rules()), (
        "kube-proxy wrote no rule for the Service"
    )
    # `kubectl logs` goes from the API server to the kubelet on the node address.
    controlplane.kubectl("logs", "sleeper", "-n", NAMESPACE)


def test_a_second_node_is_refused_with_the_fix_named_and_nothing_half_started(
    node: tuple[ControlPlane, Node], tmp_path: Path
) -> None:
    controlplane, local = node
    second = Node(local.settings, controlplane, tmp_path / "second", sandbox_image=ref("pause"))
    with pytest.raises(DevstackError, match="make cluster-down"):
        second.start()
    assert not (tmp_path / "second" / "run").exists()
    assert "kubelet" in local.running()


def test_stopping_the_node_leaves_no_process_mount_interface_rule_or_cgroup(
    node: tuple[ControlPlane, Node],
) -> None:
    _, local = node
    assert local.leftovers(), "the running node shows nothing to remove: the check is blind"
    local.stop()
    assert local.leftovers() == []
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert "iss-" not in links
    assert "veth" not in links
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(local.layout.data_dir) not in mounts
    for save in ("iptables-save", "ip6tables-save"):
        rules = subprocess.run([save], capture_output=True, text=True).stdout
        for chain in ("KUBE-", "ISS-NODE-", "CNI-"):
            assert chain not in rules
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(local.layout.data_dir) not in ps
    assert not list(Path("/sys/fs/cgroup").glob("*/kubepods"))
