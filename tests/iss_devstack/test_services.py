"""Smoke tests proving each local service is the real thing."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import psycopg
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from iss_devstack.kafka import Kafka
from iss_devstack.prometheus import Prometheus
from iss_devstack.settings import DevstackSettings
from tests.support.ports import free_port

pytestmark = pytest.mark.services


def test_a_message_goes_through_the_broker_and_its_offset_is_committed(
    kafka: Kafka, make_topic: Callable[..., str]
) -> None:
    topic = make_topic()
    producer = Producer({"bootstrap.servers": kafka.bootstrap, "enable.idempotence": True})
    producer.produce(topic, key=b"25544", value=b'{"hello": "broker"}')
    assert producer.flush(30) == 0

    group = f"smoke-{uuid.uuid4().hex[:8]}"
    consumer = Consumer(
        {
            "bootstrap.servers": kafka.bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    deadline = time.monotonic() + 30
    message = None
    while message is None and time.monotonic() < deadline:
        candidate = consumer.poll(1.0)
        if candidate is not None and candidate.error() is None:
            message = candidate
    assert message is not None, "no message arrived within 30 s"
    assert (message.key(), message.value()) == (b"25544", b'{"hello": "broker"}')
    consumer.commit(message=message, asynchronous=False)
    committed = consumer.committed([TopicPartition(topic, 0)], timeout=10)
    consumer.close()
    assert committed[0].offset == message.offset() + 1


def test_a_table_is_created_written_and_read_in_postgresql(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("CREATE TABLE sightings (norad_id int PRIMARY KEY, seen_at timestamptz)")
        conn.execute("INSERT INTO sightings VALUES (25544, now())")
        row = conn.execute("SELECT norad_id, seen_at IS NOT NULL FROM sightings").fetchone()
    assert row == (25544, True)


class _Metrics(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"# TYPE smoke_answer gauge\nsmoke_answer 42\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def metrics_endpoint() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", free_port()), _Metrics)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_prometheus_scrapes_a_target_the_test_serves_and_answers_promql(
    prometheus: Prometheus, metrics_endpoint: str
) -> None:
    job = f"smoke-{uuid.uuid4().hex[:8]}"
    prometheus.add_target(job, metrics_endpoint)
    result = prometheus.wait_for(f'smoke_answer{{job="{job}"}} * 2', timeout=30)
    assert float(result[0]["value"][1]) == 84.0
    up = prometheus.query(f'up{{job="{job}"}}')
    assert up[0]["value"][1] == "1"


def test_a_broker_whose_random_cluster_id_starts_with_a_dash_still_starts(
    devstack_settings: DevstackSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One id in 64 encodes to a leading "-", which the storage tool once read as an option.
    dashed = uuid.UUID(bytes=b"\xf8" + bytes(15))
    monkeypatch.setattr(uuid, "uuid4", lambda: dashed)
    broker = Kafka.for_tests(devstack_settings, tmp_path)
    broker.start()
    try:
        assert (tmp_path / "logs" / "meta.properties").read_text().count("cluster.id=-") == 1
    finally:
        broker.stop()


def test_a_broker_whose_free_port_is_taken_before_it_binds_starts_on_other_ports(
    devstack_settings: DevstackSettings, tmp_path: Path
) -> None:
    # Five test streams pick free ports at once: one may take a port another has picked.
    broker = Kafka.for_tests(devstack_settings, tmp_path)
    taken = broker.controller_port
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        broker.start()
        try:
            assert broker.controller_port != taken
            assert broker.ready()
        finally:
            broker.stop()
