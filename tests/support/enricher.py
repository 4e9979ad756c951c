"""`iss-enricher` as a real process for the tests: its topics, database and settings, the
fixtures that make them, and stopping it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from iss_enricher.storage.schema import migrate
from tests.support.ports import free_port


@dataclass
class Pipeline:
    """Topics, database and settings for one enricher under test."""

    bootstrap: str
    raw: str
    enriched: str
    deadletter: str
    dsn: str
    group: str
    metrics_port: int

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            ISS_ENRICHER_BOOTSTRAP_SERVERS=self.bootstrap,
            ISS_ENRICHER_RAW_TOPIC=self.raw,
            ISS_ENRICHER_ENRICHED_TOPIC=self.enriched,
            ISS_ENRICHER_DEADLETTER_TOPIC=self.deadletter,
            ISS_ENRICHER_DATABASE_DSN=self.dsn,
            ISS_ENRICHER_CONSUMER_GROUP=self.group,
            ISS_ENRICHER_METRICS_PORT=str(self.metrics_port),
            ISS_ENRICHER_METRICS_HOST="127.0.0.1",
            ISS_ENRICHER_WINDOW_WAIT_SECONDS="1",
            ISS_ENRICHER_DB_RETRY_MAX_SECONDS="1",
            ISS_ENRICHER_SNAPSHOT_INTERVAL_SECONDS="1",
        )
        env.update(extra)
        return env

    def run_to_end(self, timeout: float = 180) -> None:
        """Process everything on the topic, then exit (kafka_tail off)."""
        done = subprocess.run(
            [sys.executable, "-m", "iss_enricher"],
            env=self.env(ISS_ENRICHER_KAFKA_TAIL="false"),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-4000:]

    def start(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "iss_enricher", *args],
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def produce(self, values: list[tuple[bytes | None, bytes]]) -> None:
        # The client's limit above the topic's, so that the broker is what refuses a record.
        config = {"bootstrap.servers": self.bootstrap, "linger.ms": 5, "message.max.bytes": 4 << 20}
        producer = Producer(config)
        for key, value in values:
            producer.produce(self.raw, key=key, value=value)
            producer.poll(0)
        assert producer.flush(30) == 0

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn) as conn:
            return conn.execute(query.encode()).fetchall()

    def count(self) -> int:
        return int(self.rows("SELECT count(*) FROM positions")[0][0])

    def wait_for_rows(self, expected: int, timeout: float, alive: Callable[[], bool]) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert alive(), "the enricher exited"
            try:
                if self.count() >= expected:
                    return
            except psycopg.OperationalError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"{self.count()} rows after {timeout} s, expected {expected}")

    def topic_values(self, topic: str, expected: int, timeout: float = 30) -> list[Any]:
        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": f"reader-{topic}",
                "enable.auto.commit": False,
            }
        )
        consumer.assign([TopicPartition(topic, 0, 0)])
        found: list[Any] = []
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and len(found) < expected:
                for msg in consumer.consume(500, 0.5):
                    if msg.error() is None:
                        found.append(msg)
            # Anything beyond `expected` would be a duplicate: give it a moment to show up.
            found.extend(m for m in consumer.consume(500, 1.0) if m.error() is None)
        finally:
            consumer.close()
        return found

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())


@pytest.fixture
def pipeline(kafka: Any, make_topic: Callable[..., str], pg_dsn: str) -> Pipeline:
    migrate(pg_dsn)
    return Pipeline(
        bootstrap=kafka.bootstrap,
        raw=make_topic(),
        enriched=make_topic(),
        deadletter=make_topic(),
        dsn=pg_dsn,
        group=f"iss-enricher-{os.urandom(4).hex()}",
        metrics_port=free_port(),
    )


@pytest.fixture
def enricher_log(tmp_path: Path) -> Iterator[Path]:
    log = tmp_path / "enricher.log"
    yield log
    if log.exists():
        print(log.read_text()[-6000:])


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT, as Ctrl-C sends it; killed if it has not exited within 20 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
