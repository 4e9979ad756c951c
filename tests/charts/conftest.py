"""Fixtures of the chart tests: the CRDs the chart needs, applied once to the control plane."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..support.chart import CHART

if TYPE_CHECKING:
    from iss_devstack.controlplane import ControlPlane


@pytest.fixture(scope="session")
def chart_crds(
    controlplane: ControlPlane, strimzi_crds_dir: Path, prometheus_operator_crds_dir: Path
) -> list[str]:
    """The Strimzi CRDs, the prometheus-operator CRDs the optional PodMonitors and
    PrometheusRule need, and the chart's own CRDs, established on the control plane.

    Server-side apply: the Kafka CRD is larger than the client-side apply annotation allows.
    """
    controlplane.kubectl(
        "apply", "--server-side", "--force-conflicts", "-f", str(strimzi_crds_dir), timeout=180
    )
    controlplane.kubectl(
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        str(prometheus_operator_crds_dir),
        timeout=120,
    )
    controlplane.kubectl(
        "apply", "--server-side", "--force-conflicts", "-f", str(CHART / "crds"), timeout=60
    )
    names = controlplane.kubectl(
        "get", "crd", "-o", "jsonpath={range .items[*]}{.metadata.name}{'\\n'}{end}"
    ).stdout.split()
    controlplane.kubectl(
        "wait",
        "--for=condition=Established",
        "--timeout=120s",
        *[f"crd/{n}" for n in names],
        timeout=150,
    )
    return names
