"""One release of the chart on the local node, as the end-to-end tests install and reach it."""

from __future__ import annotations

from dataclasses import dataclass

from iss_devstack.cluster import VALUES
from iss_devstack.controlplane import ControlPlane
from iss_devstack.kafka import Kafka
from iss_devstack.node import Node

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
