"""One real node and one release of the chart for every end-to-end test.

The node (containerd, kubelet, kube-proxy, CoreDNS) joins a control plane of its own and runs
the images built here; the release uses `ci/local-node-values.yaml` with the session's Kafka
as external Kafka. Both are made once for the package and removed after it: a node owns the
machine's node address, and the node tests start their own after these.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from iss_devstack.cluster import CHART, IMAGES
from iss_devstack.controlplane import ControlPlane
from iss_devstack.kafka import Kafka
from iss_devstack.node import Node
from iss_devstack.settings import DevstackSettings

from ..support.localnode import image_archives, start_node
from ..support.release import NAMESPACE, RELEASE, Release


@pytest.fixture(scope="package")
def node(
    devstack_settings: DevstackSettings,
    kafka: Kafka,
    local_images: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ControlPlane, Node]]:
    archives = image_archives(devstack_settings, local_images, list(IMAGES))
    data_dir: Path = tmp_path_factory.mktemp("e2e-node")
    controlplane, local = start_node(
        devstack_settings, data_dir, archives, forwarded_ports=[kafka.node_port]
    )
    yield controlplane, local
    local.stop()
    controlplane.stop()


@pytest.fixture(scope="package")
def release(node: tuple[ControlPlane, Node], kafka: Kafka) -> Release:
    controlplane, local = node
    installed = Release(controlplane, local, kafka, NAMESPACE, 0.0)
    started = time.monotonic()
    installed.helm(
        "install", RELEASE, str(CHART), "--create-namespace",
        *installed.values(), "--wait", "--timeout", "8m",
    )  # fmt: skip
    installed.installed_seconds = time.monotonic() - started
    return installed
