"""`iss-tracker status`'s Kafka probe against a Kafka that asks for SASL_SSL and SCRAM-SHA-512."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AclOperation, ResourceType  # type: ignore[attr-defined]
from pydantic import SecretStr

from iss_cli.probes import kafka_facts
from iss_runtime.kafka_auth import sasl_config
from tests.support.kafka_security import SecureKafka

pytestmark = pytest.mark.services

PASSWORD = "st@tus:cli/%"


def topics(kafka: SecureKafka) -> tuple[str, str, str, str, str]:
    """A status user and its raw, enriched and dead-letter topics and group (no ACLs yet)."""
    suffix = uuid.uuid4().hex[:8]
    raw, enriched, deadletter = (f"test-{name}-{suffix}" for name in ("raw", "enr", "dlq"))
    for topic in (raw, enriched, deadletter):
        kafka.broker.create_topic(topic)
    user = f"status-{suffix}"
    kafka.add_user(user, PASSWORD)
    return user, raw, enriched, deadletter, f"iss-enricher-{suffix}"


def produce(kafka: SecureKafka, topic: str, value: bytes) -> None:
    producer = Producer({"bootstrap.servers": kafka.broker.bootstrap})
    producer.produce(topic, value)
    assert producer.flush(30) == 0


def status(
    kafka: SecureKafka, user: str, password: str, raw: str, enriched: str, deadletter: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`iss-tracker status --json` on Kafka alone; the run and the Kafka component."""
    done = subprocess.run(
        [sys.executable, "-m", "iss_cli", "status", "--json", "--dsn", "", "--prometheus", ""],
        env={
            **os.environ,
            "ISS_TRACKER_BOOTSTRAP": kafka.bootstrap,
            "ISS_TRACKER_KAFKA_USERNAME": user,
            "ISS_TRACKER_KAFKA_PASSWORD": password,
            "ISS_TRACKER_KAFKA_SSL_CA_LOCATION": str(kafka.certificates.ca),
            "ISS_TRACKER_RAW_TOPIC": raw,
            "ISS_TRACKER_ENRICHED_TOPIC": enriched,
            "ISS_TRACKER_DEADLETTER_TOPIC": deadletter,
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    (component,) = [c for c in report["components"] if c["name"] == "kafka"]
    return done, report | {"kafka": component}


def test_the_status_probe_authenticates_and_reads_the_topics_it_may_describe(
    secure_kafka: SecureKafka,
) -> None:
    user, raw, enriched, deadletter, group = topics(secure_kafka)
    for topic in (raw, enriched, deadletter):
        secure_kafka.allow(user, topic, AclOperation.READ, AclOperation.DESCRIBE)
    secure_kafka.allow(user, group, AclOperation.DESCRIBE, resource=ResourceType.GROUP)
    produce(secure_kafka, deadletter, b"{}")
    auth = sasl_config(user, SecretStr(PASSWORD), None, secure_kafka.certificates.ca)

    # A fresh broker's group coordinator may take a moment: the probe says so and is run again.
    deadline = time.monotonic() + 30
    while (
        facts := kafka_facts(secure_kafka.bootstrap, raw, enriched, deadletter, group, 5.0, auth)
    ).dead_letters is None and time.monotonic() < deadline:
        time.sleep(0.5)
    refused = kafka_facts(
        secure_kafka.bootstrap, raw, enriched, deadletter, group, 5.0,
        sasl_config(user, SecretStr("wrong"), None, secure_kafka.certificates.ca),
    )  # fmt: skip

    assert facts.reachable, facts
    assert facts.dead_letters == 1
    assert "not authorized" not in facts.detail
    assert not refused.reachable
    assert "Authentication failed" in refused.detail


def test_status_with_a_wrong_password_answers_at_once_that_the_login_of_its_user_was_refused(
    secure_kafka: SecureKafka,
) -> None:
    user, raw, enriched, deadletter, _ = topics(secure_kafka)
    for topic in (raw, enriched, deadletter):
        secure_kafka.allow(user, topic, AclOperation.READ, AclOperation.DESCRIBE)

    started = time.monotonic()
    done, report = status(secure_kafka, user, "wrong", raw, enriched, deadletter)

    assert time.monotonic() - started < 20
    assert done.returncode == 1
    assert report["kafka"]["state"] == "down"
    detail = report["kafka"]["detail"]
    assert f"Kafka refused the login of user {user}" in detail
    assert "Authentication failed" in detail
    assert any(f"Kafka refused the login of user {user}" in p for p in report["problems"])


def test_status_names_the_topics_its_acls_do_not_grant_and_still_reports_the_others(
    secure_kafka: SecureKafka,
) -> None:
    user, raw, enriched, deadletter, _ = topics(secure_kafka)
    secure_kafka.allow(user, enriched, AclOperation.DESCRIBE)  # may describe it, not read it
    secure_kafka.allow(user, deadletter, AclOperation.READ, AclOperation.DESCRIBE)
    produce(secure_kafka, enriched, b"{}")
    produce(secure_kafka, deadletter, b"{}")

    _, report = status(secure_kafka, user, PASSWORD, raw, enriched, deadletter)

    detail = report["kafka"]["detail"]
    assert report["kafka"]["state"] == "up", detail
    assert f"user {user} is not authorized to describe topic {raw}" in detail
    assert f"user {user} is not authorized to read topic {enriched}" in detail
    assert "TOPIC_AUTHORIZATION_FAILED" in detail
    assert f"topic {deadletter}" not in detail
    assert report["dead_letters"]["value"] == 1
