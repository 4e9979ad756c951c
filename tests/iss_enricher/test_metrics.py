"""Metric re-export of the Kafka consumer lag; series declared before their first sample."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, Gauge, Histogram, generate_latest

from iss_contract.deadletter import Reason
from iss_enricher.metrics import ConsumerLagCollector, declare_rejection_series, observe_many

pytestmark = pytest.mark.unit


def test_bytewax_consumer_lag_is_exported_per_topic_and_partition() -> None:
    source_registry = CollectorRegistry()
    bytewax_lag = Gauge(
        "bytewax_kafka_consumer_lag",
        "lag",
        ["step_id", "topic", "partition"],
        registry=source_registry,
    )
    bytewax_lag.labels(step_id="iss-enricher.raw-in", topic="raw", partition="0").set(42)
    bytewax_lag.labels(step_id="iss-enricher.raw-in", topic="raw", partition="1").set(7)
    exported = CollectorRegistry()
    exported.register(ConsumerLagCollector(bytewax_lag))
    text = generate_latest(exported).decode()
    assert 'iss_enricher_consumer_lag_messages{partition="0",topic="raw"} 42.0' in text
    assert 'iss_enricher_consumer_lag_messages{partition="1",topic="raw"} 7.0' in text


def samples(registry: CollectorRegistry) -> dict[str, dict[tuple[str, ...], float]]:
    out: dict[str, dict[tuple[str, ...], float]] = {}
    for metric in registry.collect():
        for sample in metric.samples:
            if not sample.name.endswith("_created"):
                labels = tuple(sample.labels.values())
                out.setdefault(sample.name, {})[labels] = sample.value
    return out


def test_observing_many_values_at_once_equals_observing_them_one_by_one() -> None:
    buckets = (0.1, 0.5, 1.0, 5.0)
    values = [0.0, 0.05, 0.1, 0.10001, 0.5, 0.7, 1.0, 3.0, 5.0, 7.5, 100.0, -1.0]
    one_by_one = CollectorRegistry()
    single = Histogram("latency_seconds", "l", buckets=buckets, registry=one_by_one)
    for value in values:
        single.observe(value)
    at_once = CollectorRegistry()
    observe_many(Histogram("latency_seconds", "l", buckets=buckets, registry=at_once), values)
    assert samples(at_once) == samples(one_by_one)
    assert samples(at_once)["latency_seconds_bucket"][("0.1",)] == 4.0


def test_every_dead_letter_reason_has_a_series_before_its_first_rejection() -> None:
    declare_rejection_series()

    reasons = {
        sample.labels["reason"]
        for metric in REGISTRY.collect()
        if metric.name == "iss_enricher_records_rejected"
        for sample in metric.samples
        if sample.name == "iss_enricher_records_rejected_total"
    }
    assert reasons >= {reason.value for reason in Reason}
