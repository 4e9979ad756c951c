"""The real enricher against a Kafka that asks for SASL_SSL with SCRAM-SHA-512 and ACLs.

The enricher's user is granted exactly what it uses: read the raw topic under its consumer
group, write the enriched and dead-letter topics (tests/support/kafka_security.py makes the broker
and its certificates). Records are written and read back by the administration listener. With a
wrong password, or without an ACL on the raw topic, the process keeps running and says why.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AclOperation, ResourceType  # type: ignore[attr-defined]

from iss_enricher.storage.schema import migrate
from tests.iss_enricher.fixtures import encode, raw_document
from tests.iss_producer.fixtures import consume_all
from tests.support.kafka_security import SecureKafka
from tests.support.waits import poll_until

pytestmark = pytest.mark.services

PASSWORD = "en:r1ch@er/%"
POSITIONS = 20
RUNNING_S = 12.0
"""How long a refused enricher is watched: it must neither exit nor flood its log."""
BURST = 5
"""The log gate's lines per facility and minute (iss_runtime.kafka_logs)."""


@dataclass(frozen=True)
class Enricher:
    """An enricher user and its topics on the secured broker (no ACLs granted yet)."""

    kafka: SecureKafka
    user: str
    group: str
    raw: str
    enriched: str
    deadletter: str
    dsn: str

    def grant_all_but_the_raw_topic(self) -> None:
        self.kafka.allow(self.user, self.enriched, AclOperation.WRITE, AclOperation.DESCRIBE)
        self.kafka.allow(self.user, self.deadletter, AclOperation.WRITE, AclOperation.DESCRIBE)
        self.kafka.allow(self.user, self.group, AclOperation.READ, resource=ResourceType.GROUP)

    def grant_the_raw_topic(self) -> None:
        self.kafka.allow(self.user, self.raw, AclOperation.READ, AclOperation.DESCRIBE)

    def write_raw(self, positions: int) -> None:
        producer = Producer({"bootstrap.servers": self.kafka.broker.bootstrap})
        for second in range(positions):
            event = f"2026-09-16T12:00:{second:02d}.000000Z"
            producer.produce(self.raw, key=b"25544", value=encode(raw_document(event_time=event)))
        producer.produce(self.raw, key=b"25544", value=b"not json")
        assert producer.flush(30) == 0

    def env(self, password: str, *, tail: bool) -> dict[str, str]:
        return {
            **os.environ,
            "ISS_ENRICHER_BOOTSTRAP_SERVERS": self.kafka.bootstrap,
            "ISS_ENRICHER_KAFKA_USERNAME": self.user,
            "ISS_ENRICHER_KAFKA_PASSWORD": password,
            "ISS_ENRICHER_KAFKA_SSL_CA_LOCATION": str(self.kafka.certificates.ca),
            "ISS_ENRICHER_RAW_TOPIC": self.raw,
            "ISS_ENRICHER_ENRICHED_TOPIC": self.enriched,
            "ISS_ENRICHER_DEADLETTER_TOPIC": self.deadletter,
            "ISS_ENRICHER_CONSUMER_GROUP": self.group,
            "ISS_ENRICHER_DATABASE_DSN": self.dsn,
            "ISS_ENRICHER_METRICS_PORT": "0",
            "ISS_ENRICHER_KAFKA_TAIL": str(tail).lower(),
            "ISS_ENRICHER_LOG_FORMAT": "text",
        }

    def stored(self) -> int:
        with psycopg.connect(self.dsn) as conn:
            row = conn.execute("SELECT count(*) FROM positions").fetchone()
        return int(row[0]) if row else 0


@pytest.fixture
def enricher(secure_kafka: SecureKafka, pg_dsn: str) -> Enricher:
    suffix = uuid.uuid4().hex[:8]
    raw, enriched, deadletter = (f"test-{name}-{suffix}" for name in ("raw", "enr", "dlq"))
    for topic in (raw, enriched, deadletter):
        secure_kafka.broker.create_topic(topic)
    user = f"enricher-{suffix}"
    secure_kafka.add_user(user, PASSWORD)
    migrate(pg_dsn)
    return Enricher(secure_kafka, user, f"iss-enricher-{suffix}", raw, enriched, deadletter, pg_dsn)


class Running:
    """`python -m iss_enricher` in the background, its log in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "iss_enricher"],
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines()

    def stop(self) -> int:
        """SIGTERM, as Kubernetes sends it; the exit status."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._out.close()


def test_the_enricher_authenticates_reads_raw_and_writes_both_topics_under_its_acls(
    enricher: Enricher,
) -> None:
    enricher.grant_all_but_the_raw_topic()
    enricher.grant_the_raw_topic()
    enricher.write_raw(POSITIONS)

    done = subprocess.run(
        [sys.executable, "-m", "iss_enricher"],
        env=enricher.env(PASSWORD, tail=False),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-4000:]
    assert enricher.stored() == POSITIONS
    admin = enricher.kafka.broker.bootstrap
    assert len(consume_all(admin, enricher.enriched, expected=POSITIONS)) == POSITIONS
    assert len(consume_all(admin, enricher.deadletter, expected=1)) == 1


def test_with_a_wrong_password_the_enricher_keeps_running_and_says_once_its_login_is_refused(
    enricher: Enricher, tmp_path: Path
) -> None:
    enricher.grant_all_but_the_raw_topic()
    enricher.grant_the_raw_topic()
    running = Running(enricher.env("not-the-password", tail=True), tmp_path / "enricher.log")

    time.sleep(RUNNING_S)
    exited = running.process.poll()
    status = running.stop()

    lines = running.lines()
    log = "\n".join(lines)
    assert exited is None, log[-4000:]
    assert status == 0, log[-4000:]
    assert "Traceback" not in log
    refused = [line for line in lines if f"Kafka refused the login of user {enricher.user}" in line]
    assert len(refused) == 1, log[-4000:]
    assert "Authentication failed" in refused[0]
    # librdkafka says so at every reconnect, about three times a second: the gate lets a burst
    # through, the enricher's own line comes once a minute.
    assert len([line for line in lines if "Authentication failed" in line]) <= BURST + 1, log


@pytest.mark.parametrize("describe", [False, True], ids=["no-acl", "describe-only"])
def test_an_enricher_denied_the_raw_topic_says_so_keeps_running_and_enriches_once_read_is_granted(
    enricher: Enricher, tmp_path: Path, describe: bool
) -> None:
    enricher.grant_all_but_the_raw_topic()
    if describe:  # the partitions can be listed, the fetch is refused
        enricher.kafka.allow(enricher.user, enricher.raw, AclOperation.DESCRIBE)
    enricher.write_raw(POSITIONS)
    running = Running(enricher.env(PASSWORD, tail=True), tmp_path / "enricher.log")
    try:
        denial = f"user {enricher.user} is not authorized to read topic {enricher.raw}"
        poll_until(lambda: any(denial in line for line in running.lines()), 30, 0.2)
        time.sleep(3)  # time to repeat itself, were it to
        exited = running.process.poll()

        enricher.grant_the_raw_topic()
        poll_until(lambda: enricher.stored() == POSITIONS, 40, 0.2)
    finally:
        status = running.stop()

    lines = running.lines()
    log = "\n".join(lines)
    denied = [line for line in lines if denial in line]
    assert len(denied) == 1, log[-4000:]
    assert "TOPIC_AUTHORIZATION_FAILED" in denied[0]
    assert exited is None, log[-4000:]
    assert "Traceback" not in log
    assert enricher.stored() == POSITIONS, log[-4000:]
    assert status == 0, log[-4000:]
