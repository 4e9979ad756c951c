"""The operator against the real API server, controller-manager and Prometheus."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from tests.iss_operator.fixtures import (
    Cluster,
    OperatorProcess,
    PipelineMetrics,
    Prometheus,
    pipeline_manifest,
    wait_until,
)

pytestmark = pytest.mark.controlplane


def _checks_exposed(operator: OperatorProcess, pipeline: str) -> bool:
    exposed = (
        urllib.request.urlopen(f"http://127.0.0.1:{operator.metrics_port}/metrics", timeout=5)
        .read()
        .decode()
    )
    return f'pipeline="{pipeline}"' in exposed


def _settle(seconds: float) -> None:
    """Let several 1 s checks run; used only to show that something does NOT happen."""
    time.sleep(seconds)


def test_fresh_pipeline_stays_healthy_and_nothing_is_restarted(
    cluster: Cluster,
    operator: OperatorProcess,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
) -> None:
    _, job = metrics
    name = cluster.apply_pipeline(pipeline_manifest("fresh", prometheus.url, job))
    status = cluster.wait_phase(name, "Healthy")
    _settle(4)
    status = cluster.status(name)
    assert status["phase"] == "Healthy"
    assert status["restartsLastHour"] == 0
    assert status["lag"] == 3
    assert {c["name"]: c["healthy"] for c in status["components"]} == {
        "producer": True,
        "enricher": True,
    }
    ready = {c["type"]: c for c in status["conditions"]}["Ready"]
    assert (ready["status"], ready["reason"]) == ("True", "AllFresh")
    assert cluster.restarted_at("iss-producer") is None
    assert cluster.restarted_at("iss-enricher") is None
    assert "Healthy" in cluster.event_reasons(name)

    table = cluster.kubectl("get", "pipelines").stdout.splitlines()
    assert table[0].split() == [
        "NAME",
        "PHASE",
        "FRESHNESS",
        "LAG",
        "RESTARTS",
        "LAST",
        "RESTART",
        "AGE",
    ]
    row = table[1].split()
    assert row[:5] == ["fresh", "Healthy", row[2], "3", "0"]
    assert row[2].endswith("s")

    exposed = (
        urllib.request.urlopen(f"http://127.0.0.1:{operator.metrics_port}/metrics", timeout=5)
        .read()
        .decode()
    )
    assert (
        f'iss_operator_checks_total{{outcome="healthy",pipeline="{cluster.namespace}/fresh"}}'
        in exposed
    )
    assert "iss_operator_decision_seconds_count" in exposed
    with urllib.request.urlopen(
        f"http://127.0.0.1:{operator.liveness_port}/healthz", timeout=5
    ) as answer:
        assert answer.status == 200


def test_stale_enricher_with_fresh_raw_input_is_restarted_and_rolled_out_once(
    cluster: Cluster,
    operator: OperatorProcess,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
) -> None:
    served, job = metrics
    wait_until(lambda: len(cluster.replicasets("iss-enricher")) == 1, what="first ReplicaSet")
    name = cluster.apply_pipeline(pipeline_manifest("stale", prometheus.url, job))
    cluster.wait_phase(name, "Healthy")
    served.storing = False

    stamp = wait_until(
        lambda: cluster.restarted_at("iss-enricher"), timeout=40, what="enricher restart"
    )
    wait_until(
        lambda: len(cluster.replicasets("iss-enricher")) == 2,
        what="a new ReplicaSet from the controller-manager",
    )
    assert cluster.restarted_at("iss-producer") is None
    assert "Restarted" in cluster.event_reasons(name)

    # The cooldown (300 s) holds while the data stays stale: still one restart.
    status = cluster.wait_phase(name, "Recovering")
    _settle(4)
    status = cluster.status(name)
    assert status["reason"] == "CooldownActive"
    assert status["restartsLastHour"] == 1
    assert status["lastRestart"]
    assert status["restartHistory"][0]["component"] == "enricher"
    assert status["restartHistory"][0]["reason"] == "EnricherStale"
    assert cluster.restarted_at("iss-enricher") == stamp
    assert len(cluster.replicasets("iss-enricher")) == 2


def test_producer_that_stopped_publishing_is_restarted_not_the_enricher(
    cluster: Cluster,
    operator: OperatorProcess,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
) -> None:
    served, job = metrics
    name = cluster.apply_pipeline(pipeline_manifest("stuck", prometheus.url, job))
    cluster.wait_phase(name, "Healthy")
    served.publishing = False
    served.storing = False
    wait_until(lambda: cluster.restarted_at("iss-producer"), timeout=40, what="producer restart")
    assert cluster.status(name)["lastDecision"]["component"] == "producer"
    assert cluster.restarted_at("iss-enricher") is None


def test_upstream_api_outage_is_reported_and_restarts_nothing(
    cluster: Cluster,
    operator: OperatorProcess,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
) -> None:
    served, job = metrics
    name = cluster.apply_pipeline(pipeline_manifest("outage", prometheus.url, job))
    cluster.wait_phase(name, "Healthy")
    served.upstream_failing = True
    served.publishing = False
    served.storing = False
    status = cluster.wait_phase(name, "Degraded", timeout=40)
    assert status["reason"] == "UpstreamOutage"
    assert "upstream API outage" in status["message"]
    _settle(4)
    assert cluster.status(name)["phase"] == "Degraded"
    assert cluster.restarted_at("iss-producer") is None
    assert cluster.restarted_at("iss-enricher") is None
    warnings = [e for e in cluster.events(name) if e.get("type") == "Warning"]
    assert any(e["reason"] == "Degraded" for e in warnings)


def test_exhausted_budget_holds_across_operator_restarts(
    cluster: Cluster,
    operator: OperatorProcess,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
) -> None:
    served, job = metrics
    served.storing = False
    name = cluster.apply_pipeline(
        pipeline_manifest(
            "budget",
            prometheus.url,
            job,
            restartPolicy={"cooldownSeconds": 0, "maxRestartsPerHour": 1},
        )
    )
    stamp = wait_until(lambda: cluster.restarted_at("iss-enricher"), timeout=40, what="restart")
    status = cluster.wait_phase(name, "BudgetExhausted")
    assert "budget exhausted (1/1" in status["message"]
    budget = {c["type"]: c for c in status["conditions"]}["RestartBudgetExhausted"]
    assert budget["status"] == "True"
    warnings = [e for e in cluster.events(name) if e.get("type") == "Warning"]
    assert any(e["reason"] == "BudgetExhausted" for e in warnings)

    operator.stop()
    operator.start()
    _settle(8)
    assert cluster.status(name)["phase"] == "BudgetExhausted"
    assert cluster.restarted_at("iss-enricher") == stamp


def test_paused_and_dry_run_pipelines_restart_nothing(
    cluster: Cluster,
    operator: OperatorProcess,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
) -> None:
    served, job = metrics
    served.storing = False
    paused = cluster.apply_pipeline(pipeline_manifest("paused", prometheus.url, job, paused=True))
    dry = cluster.apply_pipeline(pipeline_manifest("dry", prometheus.url, job, dryRun=True))

    cluster.wait_phase(paused, "Paused")
    status = wait_until(
        lambda: (
            (s := cluster.status(dry)).get("lastDecision", {}).get("action") == "WouldRestart" and s
        ),
        timeout=40,
        what="a dry-run would-restart",
    )
    assert status["phase"] == "Degraded"
    assert "would restart Deployment iss-enricher" in status["message"]
    assert status["restartHistory"][0]["dryRun"] is True
    assert "DryRunRestart" in cluster.event_reasons(dry)
    _settle(4)
    assert cluster.status(paused)["phase"] == "Paused"
    assert cluster.restarted_at("iss-enricher") is None
    assert cluster.restarted_at("iss-producer") is None

    # Unpausing makes the operator act on the same stale data.
    cluster.kubectl("patch", "pipeline", paused, "--type=merge", "-p", '{"spec":{"paused":false}}')
    wait_until(lambda: cluster.restarted_at("iss-enricher"), timeout=40, what="restart")


def test_unreachable_prometheus_is_unknown_and_restarts_nothing(
    cluster: Cluster, operator: OperatorProcess
) -> None:
    with_dead_prometheus = pipeline_manifest("blind", "http://127.0.0.1:9", "none")
    name = cluster.apply_pipeline(with_dead_prometheus)
    status = cluster.wait_phase(name, "Unknown")
    metrics_condition = {c["type"]: c for c in status["conditions"]}["MetricsAvailable"]
    assert metrics_condition["status"] == "False"
    assert "PrometheusUnreachable" in status["message"]
    assert status["freshness"] == "unknown"
    _settle(3)
    assert cluster.restarted_at("iss-enricher") is None
    assert cluster.restarted_at("iss-producer") is None


def test_two_operators_never_act_at_once(
    cluster: Cluster,
    operator: OperatorProcess,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
    tmp_path: Path,
) -> None:
    _, job = metrics
    wait_until(lambda: "Resuming operations" in operator.log(), what="first operator active")
    second = OperatorProcess(
        cluster.controlplane,
        cluster.namespace,
        tmp_path / "second.log",
        ISS_OPERATOR_PRIORITY="100",
    ).start()
    try:
        wait_until(
            lambda: "Pausing operations" in operator.log(),
            what="the lower-priority operator to pause",
        )
        name = cluster.apply_pipeline(pipeline_manifest("peers", prometheus.url, job))
        cluster.wait_phase(name, "Healthy")
        _settle(3)
        pipeline = f"{cluster.namespace}/{name}"
        assert _checks_exposed(second, pipeline)
        assert not _checks_exposed(operator, pipeline)
    finally:
        second.stop()
    # The survivor takes over once its higher-priority peer has gone.
    wait_until(
        lambda: _checks_exposed(operator, f"{cluster.namespace}/peers"),
        timeout=90,
        what="the remaining operator to resume",
    )


def test_missing_workload_is_an_error_with_a_warning_event(
    cluster: Cluster,
    operator: OperatorProcess,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
) -> None:
    served, job = metrics
    manifest = pipeline_manifest("typo", prometheus.url, job).replace(
        "name: iss-enricher", "name: iss-enricher-typo"
    )
    name = cluster.apply_pipeline(manifest)
    cluster.wait_phase(name, "Healthy")
    served.storing = False
    status = cluster.wait_phase(name, "Error", timeout=40)
    assert status["reason"] == "WorkloadNotFound"
    assert "iss-enricher-typo not found" in status["message"]
    warnings = [e for e in cluster.events(name) if e.get("type") == "Warning"]
    assert any(e["reason"] == "WorkloadNotFound" for e in warnings)
    assert cluster.status(name).get("restartHistory", []) == []
