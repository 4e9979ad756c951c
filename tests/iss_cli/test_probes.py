"""Cluster probes against the real local control plane (no kubelet: pods never become ready)."""

from __future__ import annotations

from typing import Any

import pytest

from iss_cli.__main__ import main
from iss_cli.probes import cluster_components
from iss_cli.report import State

pytestmark = pytest.mark.controlplane

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: iss-producer
spec:
  replicas: 1
  selector:
    matchLabels: {app: iss-producer}
  template:
    metadata:
      labels: {app: iss-producer}
    spec:
      containers:
        - name: producer
          image: iss-tracker:dev
"""


def test_a_deployment_without_ready_replicas_is_down(controlplane: Any, namespace: str) -> None:
    controlplane.kubectl("apply", "-n", namespace, "-f", "-", input=DEPLOYMENT)

    components = {c.name: c for c in cluster_components(controlplane.kubeconfig, namespace, 10)}

    assert components["kubernetes API"].state is State.UP
    assert components["iss-producer"].state is State.DOWN
    assert components["iss-producer"].detail == "Deployment 0/1 ready"


def test_cluster_status_exits_non_zero_and_names_the_workload(
    controlplane: Any, namespace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    controlplane.kubectl("apply", "-n", namespace, "-f", "-", input=DEPLOYMENT)
    with pytest.raises(SystemExit) as exit_:
        main(["status", "--kubeconfig", str(controlplane.kubeconfig), "--namespace", namespace])
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    assert f"ISS Tracker status: namespace {namespace}" in out
    assert "iss-producer is down (Deployment 0/1 ready)" in out
