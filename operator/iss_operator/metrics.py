"""The operator's own Prometheus metrics (names as in docs/contracts.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from iss_contract.metric_names import CHECKS, DECISION_SECONDS, RESTARTS
from iss_operator.decide import Reason
from iss_operator.spec import Component, Role

RESTART_REASON = {
    Role.PRODUCER: Reason.PRODUCER_STALE,
    Role.ENRICHER: Reason.ENRICHER_STALE,
    Role.OTHER: Reason.COMPONENT_STALE,
}
"""The fault a restart of a component in each role is issued for."""


@dataclass(frozen=True)
class OperatorMetrics:
    registry: CollectorRegistry
    checks: Counter
    restarts: Counter
    decision_seconds: Histogram


def build_metrics() -> OperatorMetrics:
    """A fresh registry, so tests and the process never share metric state."""
    registry = CollectorRegistry()
    return OperatorMetrics(
        registry=registry,
        checks=Counter(
            CHECKS,
            "Pipeline checks by outcome (the resulting phase, lower case).",
            ["pipeline", "outcome"],
            registry=registry,
        ),
        restarts=Counter(
            RESTARTS,
            "Workload restarts issued, by component and reason.",
            ["pipeline", "component", "reason"],
            registry=registry,
        ),
        decision_seconds=Histogram(
            DECISION_SECONDS,
            "Time from the start of a check to its decision (queries included).",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=registry,
        ),
    )


def declare_restart_series(
    metrics: OperatorMetrics, pipeline: str, components: Iterable[Component]
) -> None:
    """Create each component's restart series at 0, so that `increase()` sees the first one."""
    for component in components:
        metrics.restarts.labels(pipeline, component.name, RESTART_REASON[component.role].value)


def serve(metrics: OperatorMetrics, host: str, port: int) -> None:
    """Expose /metrics on a background thread."""
    start_http_server(port, addr=host, registry=metrics.registry)
