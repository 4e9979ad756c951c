"""The producer's Kafka settings against a real broker with SASL_SSL, SCRAM-SHA-512 and ACLs.

The broker (the devstack's Kafka with a second, SASL_SSL listener, tests/kafka_security.py)
enforces ACLs with StandardAuthorizer; the certificates are made by the test.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, Producer
from confluent_kafka.admin import AclOperation  # type: ignore[attr-defined]

from iss_devstack.kafka_tls import make_certificates
from iss_producer.publisher import kafka_config
from iss_producer.settings import ProducerSettings
from tests.iss_producer.fixtures import consume_all
from tests.kafka_security import SecureKafka

pytestmark = pytest.mark.services

PASSWORD = "s3cr:t@pass/word%"


def settings(
    kafka: SecureKafka, user: str, password: str, ca: Path | None = None
) -> dict[str, object]:
    values = ProducerSettings(
        bootstrap_servers=kafka.bootstrap,
        kafka_username=user,
        kafka_password=password,
        kafka_ssl_ca_location=ca or kafka.certificates.ca,
        delivery_timeout_ms=3000,
    )
    return kafka_config(values)


def send(config: dict[str, object], topic: str) -> tuple[list[KafkaError], list[KafkaError]]:
    """Produce one message; the delivery errors and the client errors it met."""
    delivered: list[KafkaError] = []
    client_errors: list[KafkaError] = []
    producer = Producer({**config, "error_cb": client_errors.append, "socket.timeout.ms": 5000})
    producer.produce(topic, b"{}", on_delivery=lambda err, _msg: delivered.append(err))
    producer.flush(15)
    return delivered, client_errors


@pytest.fixture
def user_and_topic(secure_kafka: SecureKafka) -> tuple[str, str]:
    user, topic = f"producer-{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:10]}"
    secure_kafka.broker.create_topic(topic)
    secure_kafka.add_user(user, PASSWORD)
    secure_kafka.allow(user, topic, AclOperation.WRITE, AclOperation.DESCRIBE)
    return user, topic


def test_the_producer_authenticates_with_scram_over_tls_and_writes_its_topic(
    secure_kafka: SecureKafka, user_and_topic: tuple[str, str]
) -> None:
    user, topic = user_and_topic
    config = settings(secure_kafka, user, PASSWORD)
    assert config["security.protocol"] == "SASL_SSL"

    delivered, _ = send(config, topic)

    assert delivered == [None]
    assert [m.value() for m in consume_all(secure_kafka.broker.bootstrap, topic, expected=1)] == [
        b"{}"
    ]


def test_a_wrong_password_is_refused_as_an_authentication_failure(
    secure_kafka: SecureKafka, user_and_topic: tuple[str, str]
) -> None:
    user, topic = user_and_topic

    delivered, client_errors = send(settings(secure_kafka, user, "wrong"), topic)

    assert len(delivered) == 1
    assert delivered[0] is not None
    assert any(e.code() == KafkaError._AUTHENTICATION for e in client_errors), client_errors
    assert any("Authentication failed" in e.str() for e in client_errors), client_errors


def test_a_topic_the_acls_do_not_grant_is_reported_as_not_authorized(
    secure_kafka: SecureKafka, user_and_topic: tuple[str, str]
) -> None:
    user, _ = user_and_topic
    other = f"test-{uuid.uuid4().hex[:10]}"
    secure_kafka.broker.create_topic(other)

    delivered, _ = send(settings(secure_kafka, user, PASSWORD), other)

    assert [e.code() if e else None for e in delivered] == [KafkaError.TOPIC_AUTHORIZATION_FAILED]


def test_a_broker_certificate_from_another_ca_is_refused(
    secure_kafka: SecureKafka, user_and_topic: tuple[str, str], tmp_path: Path
) -> None:
    user, topic = user_and_topic
    stranger = make_certificates(tmp_path)

    delivered, client_errors = send(settings(secure_kafka, user, PASSWORD, stranger.ca), topic)

    assert len(delivered) == 1
    assert delivered[0] is not None
    assert any("certificate verify failed" in e.str() for e in client_errors), client_errors
