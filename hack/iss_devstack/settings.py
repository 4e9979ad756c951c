"""Configuration of the local stack: one settings class, read from ISS_DEVSTACK_* variables."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "iss-tracker"


class DevstackSettings(BaseSettings):
    """Where the local stack keeps downloads and state, which versions it runs, its ports."""

    model_config = SettingsConfigDict(env_prefix="ISS_DEVSTACK_", extra="ignore")

    cache_dir: Path = Field(default_factory=_default_cache_dir)
    """Downloads and builds, one folder per component and version; safe to delete."""
    state_dir: Path = REPO_ROOT / ".devstack"
    """Data, logs and pid files of the stack that `make up` runs."""
    strimzi_crds_dir: Path = Field(
        default=REPO_ROOT.parent / "shared" / "crds" / "strimzi-1.2.0",
        validation_alias=AliasChoices("STRIMZI_CRDS_DIR", "ISS_DEVSTACK_STRIMZI_CRDS_DIR"),
    )
    """The released Strimzi CRDs (kafka.strimzi.io/v1) the chart is validated against."""
    prometheus_operator_crds_dir: Path = Field(
        default=REPO_ROOT.parent / "shared" / "crds" / "prometheus-operator-0.93.0",
        validation_alias=AliasChoices(
            "PROMETHEUS_OPERATOR_CRDS_DIR", "ISS_DEVSTACK_PROMETHEUS_OPERATOR_CRDS_DIR"
        ),
    )
    """The released prometheus-operator CRDs (monitoring.coreos.com/v1) for PodMonitor and
    PrometheusRule validation."""

    kafka_version: str = "4.3.1"
    """Apache Kafka, resolved from Maven Central."""
    kubernetes_version: str = "v1.34.4"
    """etcd, kube-apiserver, kube-controller-manager and kubectl, built from Go modules."""
    coredns_version: str = "v1.12.4"
    """CoreDNS, the local node's cluster DNS, built from its Go module."""
    helm_version: str = "v3.19.0"
    """helm, built from its Go module."""
    postgres_major: int = 15
    """PostgreSQL major version, from Debian packages."""
    prometheus_image_version: str = "v3.5.0"
    """Prometheus in the cluster image, built from its Go module (the chart's default release)."""

    kafka_port: int = 19092
    kafka_controller_port: int = 19093
    postgres_port: int = 15432
    prometheus_port: int = 19090
    etcd_port: int = 12379
    apiserver_port: int = 16443
    producer_metrics_port: int = 9101
    enricher_metrics_port: int = 9102
    liveview_port: int = 8088
    liveview_metrics_port: int = 9104
    kafka_node_port: int = 19094
    """Kafka's listener for pods on the local node (advertised on the node address)."""
    node_name: str = "iss-node"
    """The local node's name (`make cluster-up`, the end-to-end tests)."""
    node_address: str = "10.201.0.1"
    """The local node's address: on a portless bridge, never routed off the machine."""
    pod_cidr: str = "10.244.0.0/24"
    """Addresses of the local node's pods (CNI bridge, host-local IPAM)."""
    producer_sources: str | None = None
    """Producer sources for `make up`, comma-separated; unset: live APIs if reachable, else SGP4."""

    def cache(self, component: str, version: str) -> Path:
        """The cache folder of one component at one version, created on demand."""
        path = self.cache_dir / f"{component}-{version}"
        path.mkdir(parents=True, exist_ok=True)
        return path
