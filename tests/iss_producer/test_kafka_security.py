"""The producer against a real broker with SASL_SSL, SCRAM-SHA-512 and ACLs: its Kafka settings,
and the `iss-producer` process with a wrong password or a topic it is not granted.

The broker (the devstack's Kafka with a second, SASL_SSL listener,
tests/support/kafka_security.py) enforces ACLs with StandardAuthorizer; the certificates are
made by the test.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, Producer
from confluent_kafka.admin import AclOperation  # type: ignore[attr-defined]

from iss_devstack.kafka_tls import make_certificates
from iss_producer.publisher import kafka_config
from iss_producer.settings import ProducerSettings
from tests.iss_producer.fixtures import COMMAND, consume_all, environment
from tests.support.kafka_security import SecureKafka

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


RUNNING_S = 12.0
"""How long a refused producer is watched: it must neither exit nor repeat itself."""


def run_refused_producer(kafka: SecureKafka, user: str, password: str, topic: str) -> str:
    """Run `iss-producer` for RUNNING_S against the secured broker; assert that it was still
    running then and stopped cleanly on SIGTERM; return its log."""
    process = subprocess.Popen(
        [COMMAND, "--log-format", "json"],
        env=environment(
            bootstrap_servers=kafka.bootstrap,
            topic=topic,
            sources="sgp4",
            tick_seconds="0.2",
            kafka_username=user,
            kafka_password=password,
            kafka_ssl_ca_location=str(kafka.certificates.ca),
            delivery_timeout_ms="2000",
            shutdown_grace_seconds="2",
            metrics_port="0",
        ),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(RUNNING_S)
        if process.poll() is not None:
            raise AssertionError(f"the producer exited: {process.communicate()[1][-3000:]}")
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert "Traceback" not in log
    (stopped,) = [json.loads(line) for line in log.splitlines() if '"message": "stopped:' in line]
    # Exit 1 says that messages were left unacknowledged, as documented; it is no crash.
    assert process.returncode == (1 if stopped["unflushed"] else 0), log
    return log


def test_a_producer_with_a_wrong_password_keeps_running_and_says_so_once(
    secure_kafka: SecureKafka, user_and_topic: tuple[str, str]
) -> None:
    user, topic = user_and_topic

    log = run_refused_producer(secure_kafka, user, "wrong", topic)

    assert log.count(f"Kafka refused the login of user {user}") == 1, log
    assert log.count("not delivered") <= 1, log  # 60 ticks timed out, said once


def test_a_producer_denied_its_topic_keeps_running_and_names_the_topic_once(
    secure_kafka: SecureKafka, user_and_topic: tuple[str, str]
) -> None:
    user, _ = user_and_topic
    other = f"test-{uuid.uuid4().hex[:10]}"
    secure_kafka.broker.create_topic(other)

    log = run_refused_producer(secure_kafka, user, PASSWORD, other)

    assert log.count(f"user {user} is not authorized to write topic {other}") == 1, log
    assert "TOPIC_AUTHORIZATION_FAILED" in log
