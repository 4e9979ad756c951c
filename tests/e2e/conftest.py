"""One real node and one release of the chart for every end-to-end test.

The node (containerd, kubelet, kube-proxy, CoreDNS) joins a control plane of its own and runs
the images built here; the release uses `ci/local-node-values.yaml` with the session's Kafka
as external Kafka. Both are made once for the package and removed after it: a node owns the
machine's node address, and the node tests start their own after these.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from iss_devstack.cluster import CHART, IMAGES, VALUES
from iss_devstack.controlplane import ControlPlane
from iss_devstack.kafka import Kafka
from iss_devstack.node import Node
from iss_devstack.settings import DevstackSettings
from tests.localnode import image_archives, start_node

RELEASE = "iss"
NAMESPACE = "iss-e2e"
FULLNAME = f"{RELEASE}-iss-tracker"
FAST_CHECKS = {
    # Shorter than the chart's defaults so that a fault is found within seconds; the
    # benchmark (benchmarks/node_bench.py) measures with the defaults too.
    "operator.pipeline.checkIntervalSeconds": "5",
    "operator.pipeline.producerFreshnessSeconds": "20",
    "operator.pipeline.upstreamWindowSeconds": "15",
    "operator.pipeline.enricherFreshnessSeconds": "20",
    "operator.pipeline.cooldownSeconds": "45",
    "operator.pipeline.maxRestartsPerHour": "10",
    "prometheus.scrapeInterval": "5s",
    # A Pipeline without a check loop shows in /healthz after two audits (10 s here).
    "operator.extraEnv[0].name": "ISS_OPERATOR_WATCH_AUDIT_SECONDS",
    "operator.extraEnv[0].value": "5",
}


@dataclass
class Release:
    """The installed release and what the tests need to reach it."""

    controlplane: ControlPlane
    node: Node
    kafka: Kafka
    namespace: str
    installed_seconds: float

    def values(self, extra: dict[str, str] | None = None) -> list[str]:
        settings = {
            "kafka.externalBootstrap": self.kafka.node_bootstrap,
            **FAST_CHECKS,
            **(extra or {}),
        }
        args = ["-f", str(VALUES)]
        for key, value in settings.items():
            # An environment variable's value is a string, even when it reads as a number.
            flag = "--set-string" if ".extraEnv[" in key else "--set"
            args += [flag, f"{key}={value}"]
        return args

    def helm(self, *args: str, timeout: float = 600) -> str:
        return self.controlplane.helm(*args, "--namespace", self.namespace, timeout=timeout).stdout


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
