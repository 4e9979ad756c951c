import json
import logging
from datetime import UTC, datetime

import pytest

from iss_contract.raw import RawPosition
from iss_producer.metrics import Health, ProducerMetrics
from iss_producer.publisher import Publisher, kafka_config
from iss_producer.settings import ProducerSettings
from tests.iss_producer.fixtures import KafkaService, MakeTopic, consume_all


def position(sequence: int) -> RawPosition:
    return RawPosition(
        norad_id=25544,
        event_time=datetime(2026, 11, 21, 15, 0, 0, tzinfo=UTC),
        latitude=1.0,
        longitude=2.0,
        source="sgp4",
        producer_id="test",
        sequence=sequence,
        produced_at=datetime.now(UTC),
    )


@pytest.mark.unit
def test_producer_is_idempotent_with_acks_from_all_replicas() -> None:
    config = kafka_config(ProducerSettings())
    assert config["enable.idempotence"] is True
    assert config["acks"] == "all"


@pytest.mark.unit
def test_sasl_password_reaches_the_client_only() -> None:
    settings = ProducerSettings(kafka_username="iss", kafka_password="s3cret")
    config = kafka_config(settings)
    assert config["sasl.password"] == "s3cret"
    assert config["security.protocol"] == "SASL_SSL"
    assert "s3cret" not in str(settings)


@pytest.mark.unit
def test_undeliverable_message_is_counted_as_a_delivery_failure() -> None:
    settings = ProducerSettings(bootstrap_servers="127.0.0.1:9", delivery_timeout_ms=1000)
    metrics = ProducerMetrics(["sgp4"])
    publisher = Publisher(settings, metrics, Health(60.0, 30.0))
    publisher.publish(position(0))
    assert publisher.flush(10) == 0
    assert publisher.failed == 1
    assert publisher.acknowledged == 0
    assert metrics.registry.get_sample_value("iss_producer_delivery_failures_total") == 1


@pytest.mark.services
def test_full_local_queue_waits_instead_of_dropping(
    kafka: KafkaService, make_topic: MakeTopic
) -> None:
    topic = make_topic()
    settings = ProducerSettings(
        bootstrap_servers=kafka.bootstrap, topic=topic, queue_max_messages=10
    )
    metrics = ProducerMetrics(["sgp4"])
    publisher = Publisher(settings, metrics, Health(60.0, 30.0))
    for n in range(2000):
        publisher.publish(position(n))
    assert publisher.backpressure_waits > 0
    assert publisher.flush(30) == 0
    assert publisher.acknowledged == 2000
    messages = consume_all(kafka.bootstrap, topic, expected=2000)
    sequences = [json.loads(m.value() or b"")["sequence"] for m in messages]
    assert sequences == list(range(2000))


@pytest.mark.unit
def test_an_unreachable_broker_is_one_warning_and_a_gauge_not_an_error_per_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = ProducerSettings(bootstrap_servers="127.0.0.1:9", delivery_timeout_ms=3000)
    metrics = ProducerMetrics(["sgp4"])
    publisher = Publisher(settings, metrics, Health(60.0, 30.0))
    with caplog.at_level(logging.DEBUG):
        publisher.publish(position(0))
        publisher.flush(10)  # three seconds of refused reconnects
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(" (")[0] for r in loud if "unreachable" in r.getMessage()] == [
        "Kafka broker unreachable"
    ]
    assert not [
        r for r in loud if r.levelno >= logging.ERROR and "Connection refused" in r.getMessage()
    ]
    assert metrics.registry.get_sample_value("iss_producer_kafka_unreachable") == 1
    assert metrics.registry.get_sample_value("iss_producer_kafka_outages_total") == 1
