"""Metric re-export of the Kafka consumer lag."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from iss_enricher.metrics import ConsumerLagCollector

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
