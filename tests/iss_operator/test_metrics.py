from __future__ import annotations

import pytest

from iss_operator.metrics import build_metrics, declare_restart_series
from iss_operator.spec import Component, Role, Workload, WorkloadKind

pytestmark = pytest.mark.unit


def test_restart_series_exist_at_zero_before_the_first_restart() -> None:
    metrics = build_metrics()
    components = [
        Component(
            name=name,
            role=role,
            workload=Workload(WorkloadKind.DEPLOYMENT, f"iss-{name}"),
            freshness_query="time() - 0",
            freshness_threshold_seconds=15,
        )
        for name, role in (("producer", Role.PRODUCER), ("enricher", Role.ENRICHER))
    ]
    declare_restart_series(metrics, "ns/iss", components)

    def value(component: str, reason: str) -> float | None:
        return metrics.registry.get_sample_value(
            "iss_operator_restarts_total",
            {"pipeline": "ns/iss", "component": component, "reason": reason},
        )

    assert value("enricher", "EnricherStale") == 0.0
    assert value("producer", "ProducerStale") == 0.0
    assert value("producer", "EnricherStale") is None, "only the role's own fault gets a series"
    metrics.restarts.labels("ns/iss", "enricher", "EnricherStale").inc()
    assert value("enricher", "EnricherStale") == 1.0
