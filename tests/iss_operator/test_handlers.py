"""The operator against the real API server, controller-manager and Prometheus."""

from __future__ import annotations

import itertools
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from iss_devstack.controlplane import ControlPlane
from tests.support.operator import (
    Cluster,
    OperatorProcess,
    PipelineMetrics,
    Prometheus,
    pipeline_manifest,
    stop_operator,
    workload_manifest,
)
from tests.support.waits import wait_until

pytestmark = pytest.mark.controlplane


def _checks_exposed(operator: OperatorProcess, pipeline: str) -> bool:
    exposed = (
        urllib.request.urlopen(f"http://127.0.0.1:{operator.metrics_port}/metrics", timeout=5)
        .read()
        .decode()
    )
    return f'pipeline="{pipeline}"' in exposed


def _wall(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


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
        "READY",
        "PHASE",
        "FRESHNESS",
        "LAG",
        "RESTARTS",
        "LAST",
        "RESTART",
        "AGE",
    ]
    row = table[1].split()
    assert row[:6] == ["fresh", "True", "Healthy", row[3], "3", "0"]
    assert row[3].endswith("s")

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


LEASE = {
    "ISS_OPERATOR_LEASE_DURATION_SECONDS": "6",
    "ISS_OPERATOR_RENEW_DEADLINE_SECONDS": "4",
    "ISS_OPERATOR_LEASE_RETRY_SECONDS": "1",
}
TAKEOVER = 6 + 1
"""Lease duration plus one retry: the longest a standby waits after the holder died."""


def test_standby_replica_acts_within_one_interval_plus_takeover_after_the_active_dies(
    cluster: Cluster,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
    tmp_path: Path,
) -> None:
    served, job = metrics
    active = OperatorProcess(
        cluster.controlplane, cluster.namespace, tmp_path / "active.log", **LEASE
    ).start()
    standby: OperatorProcess | None = None
    try:
        wait_until(lambda: "holding the lease" in active.log(), what="the first replica to lead")
        standby = OperatorProcess(
            cluster.controlplane, cluster.namespace, tmp_path / "standby.log", **LEASE
        ).start()
        standby.wait_serving()
        interval = 2
        name = cluster.apply_pipeline(
            pipeline_manifest("peers", prometheus.url, job, checkIntervalSeconds=interval)
        )
        cluster.wait_phase(name, "Healthy")
        _settle(3)
        pipeline = f"{cluster.namespace}/{name}"
        assert _checks_exposed(active, pipeline)
        assert not _checks_exposed(standby, pipeline)
        assert "holding the lease" not in standby.log()

        served.storing = False  # stale from THRESHOLD on: the standby must restart it
        assert active.process is not None
        active.process.kill()
        active.process.wait()
        killed = time.monotonic()
        wait_until(
            lambda: _checks_exposed(standby, pipeline),
            timeout=interval + TAKEOVER + 10,
            interval=0.1,
            what="the standby to check",
        )
        took = time.monotonic() - killed
        print(f"standby's first check {took:.2f}s after the active replica was killed")
        assert took <= interval + TAKEOVER, f"standby acted {took:.1f}s after the kill"
        wait_until(
            lambda: cluster.restarted_at("iss-enricher"), timeout=30, what="standby restarts"
        )
    finally:
        if standby is not None:
            stop_operator(cluster, standby)
        active.stop()


def test_two_replicas_never_both_act(
    cluster: Cluster,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
    tmp_path: Path,
) -> None:
    """Started together, exactly one takes the Lease; a clean exit hands it over at once."""
    _, job = metrics
    first, second = (
        OperatorProcess(cluster.controlplane, cluster.namespace, tmp_path / f"{n}.log", **LEASE)
        for n in ("first", "second")
    )
    first.start()
    second.start()
    try:
        first.wait_serving()
        second.wait_serving()
        name = cluster.apply_pipeline(pipeline_manifest("pair", prometheus.url, job))
        cluster.wait_phase(name, "Healthy")
        _settle(4)
        pipeline = f"{cluster.namespace}/{name}"
        acting = [p for p in (first, second) if _checks_exposed(p, pipeline)]
        assert len(acting) == 1
        leader = acting[0]
        other = second if leader is first else first
        leader.stop()  # SIGTERM releases the Lease
        stopped = time.monotonic()
        wait_until(
            lambda: _checks_exposed(other, pipeline),
            timeout=15,
            interval=0.1,
            what="the other replica to take over",
        )
        assert time.monotonic() - stopped <= 1 + 1 + 2, "a released Lease is taken at once"
    finally:
        stop_operator(
            cluster, second if second.process and second.process.poll() is None else first
        )
        first.stop()
        second.stop()


def test_missing_workload_is_an_error_on_the_first_check_logged_once(
    cluster: Cluster,
    operator: OperatorProcess,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
) -> None:
    _, job = metrics
    manifest = pipeline_manifest("typo", prometheus.url, job).replace(
        "name: iss-enricher", "name: iss-enricher-typo"
    )
    name = cluster.apply_pipeline(manifest)
    status = cluster.wait_phase(name, "Error", timeout=20)
    assert status["reason"] == "WorkloadNotFound"
    assert "iss-enricher-typo of component enricher not found" in status["message"]
    assert {c["type"] for c in status["conditions"]} == {
        "Ready",
        "MetricsAvailable",
        "RestartBudgetExhausted",
        "Paused",
    }
    _settle(4)  # four more 1 s checks
    assert operator.log().count("iss-enricher-typo of component enricher not found") == 1
    warnings = [e for e in cluster.events(name) if e.get("type") == "Warning"]
    assert [e["reason"] for e in warnings] == ["WorkloadNotFound"]
    assert cluster.status(name).get("restartHistory", []) == []
    # Fixed: the next check finds the workload and the Pipeline is Healthy.
    cluster.kubectl("apply", "-f", "-", input=workload_manifest("iss-enricher-typo"))
    cluster.wait_phase(name, "Healthy", timeout=20)


@pytest.mark.soak
def test_flapping_metrics_for_three_minutes_obey_cooldown_and_budget_with_few_events(
    cluster: Cluster,
    operator: OperatorProcess,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
) -> None:
    served, job = metrics
    cooldown, budget = 5, 8
    name = cluster.apply_pipeline(
        pipeline_manifest(
            "flappy",
            prometheus.url,
            job,
            restartPolicy={
                "cooldownSeconds": cooldown,
                "backoffMultiplier": 1,
                "maxRestartsPerHour": budget,
            },
        )
    )
    cluster.wait_phase(name, "Healthy")
    # Stored data freezes for 22 s (stale from 8 s on), then flows for 4 s, for 3 minutes:
    # the phase flips between Healthy, Recovering and, once the budget is spent,
    # BudgetExhausted, a dozen times.
    end = time.monotonic() + 180
    while time.monotonic() < end:
        served.storing = False
        time.sleep(min(22, max(end - time.monotonic(), 0)))
        served.storing = True
        time.sleep(min(4, max(end - time.monotonic(), 0)))
    status = cluster.status(name)
    restarts = sorted(
        _wall(r["at"]) for r in status["restartHistory"] if r["component"] == "enricher"
    )
    assert len(restarts) == budget, status["restartHistory"]
    gaps = [b - a for a, b in itertools.pairwise(restarts)]
    assert all(gap >= cooldown - 0.1 for gap in gaps), gaps
    # Within one stale stretch, restarts follow each other exactly one cooldown apart.
    within = [gap for gap in gaps if gap < 2 * cooldown]
    assert within, gaps
    assert all(abs(gap - cooldown) <= 0.1 for gap in within), gaps
    per_reason: dict[str, int] = {}
    for event in cluster.events(name):
        per_reason[event["reason"]] = per_reason.get(event["reason"], 0) + 1
    assert per_reason, "no Events at all"
    assert max(per_reason.values()) <= 5, per_reason
    counted = {e["reason"]: e.get("count", 1) for e in cluster.events(name)}
    assert counted["Restarted"] == budget
    assert counted["Healthy"] >= 3  # every flip is counted, on one Event


def test_an_implausible_age_from_prometheus_is_unknown_and_restarts_nothing(
    cluster: Cluster,
    operator: OperatorProcess,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
) -> None:
    _, job = metrics
    manifest = yaml.safe_load(pipeline_manifest("absurd", prometheus.url, job))
    manifest["spec"]["components"][1]["freshness"]["query"] = "vector(1e308)"
    name = cluster.apply_pipeline(yaml.safe_dump(manifest))
    status = cluster.wait_phase(name, "Unknown")
    assert "ImplausibleValue" in status["message"]
    _settle(3)
    assert cluster.restarted_at("iss-enricher") is None


RAISING_ROUND = """
import iss_operator.handlers as handlers
from iss_operator.__main__ import main


async def round_with_a_defect(self, now):
    raise RuntimeError("a defect that raises in every round")


handlers.CheckLoop.round = round_with_a_defect
main([])
"""


def test_a_check_loop_that_raises_in_every_round_fails_liveness_and_the_process_exits(
    cluster: Cluster,
    controlplane: ControlPlane,
    metrics: tuple[PipelineMetrics, str],
    prometheus: Prometheus,
    tmp_path: Path,
) -> None:
    """A round that raises is logged and retried; one that raises every time is not alive."""
    _, job = metrics
    process = OperatorProcess(
        controlplane,
        cluster.namespace,
        tmp_path / "operator.log",
        command=[sys.executable, "-c", RAISING_ROUND],
        ISS_OPERATOR_LIVENESS_MISSED_CHECKS="1",
        ISS_OPERATOR_KUBE_TIMEOUT_SECONDS="1",
    ).start()

    try:
        name = cluster.apply_pipeline(pipeline_manifest("defect", prometheus.url, job))
        wait_until(lambda: f"check of {cluster.namespace}/{name} failed" in process.log())
        report = wait_until(process.unhealthy_report, timeout=60, what="/healthz to answer 500")
        assert "no progress for" in str(report["problems"])
        assert process.process is not None
        assert process.process.wait(timeout=30) == 3
    finally:
        process.stop()
        sys.stderr.write(f"--- operator log ---\n{process.log()[-3000:]}\n")
        for pipeline in cluster.pipelines:  # nothing is left to take the finalizer off
            cluster.kubectl(
                "patch",
                "pipeline",
                pipeline,
                "--type=merge",
                "-p",
                '{"metadata":{"finalizers":null}}',
                check=False,
            )
