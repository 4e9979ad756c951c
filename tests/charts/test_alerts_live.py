"""The chart's alerting rules on the real pipeline, delivered by a real Alertmanager.

The real producer and enricher run against the local Kafka and PostgreSQL. A Prometheus of
this module (Debian's, as the devstack runs it) scrapes them under the job and namespace labels
the chart gives the release `iss` in `iss-tracker`, and evaluates the rules helm renders for
that release, with thresholds and windows shortened to seconds. It sends alerts to Debian's
Alertmanager, which posts them to a webhook this module serves. Each alert is made to fire and
then to resolve by what the pipeline really does:

- producer on a fallback source: its first source (a local stand-in for wheretheiss.at) answers
  with a latitude of 91 degrees, so SGP4 takes over; then the stand-in answers well again;
- dead letters arriving: one undecodable record goes to the raw topic; the window passes;
- stored data stale: the enricher is frozen (SIGSTOP), then resumed (SIGCONT).

The consumer-lag, restart-budget and operator alerts are covered by the promtool unit tests
(tests/charts/promtool/alerts.test.yaml), not here.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from confluent_kafka import Producer as KafkaProducer

from iss_dashboards.macros import expand_promql
from iss_dashboards.pipeline_health_dashboard import ALERTS_PANEL_EXPR
from iss_devstack.alertmanager import Alertmanager, webhook_config
from iss_devstack.kafka import Kafka
from iss_devstack.postgres import Postgres
from iss_devstack.prometheus import Prometheus
from iss_devstack.settings import DevstackSettings
from tests.iss_dashboards.fixtures import promql_context
from tests.iss_producer.fixtures import Reply, ScriptedServer, wheretheiss_body
from tests.support.chart import helm_template, prometheus_files
from tests.support.ports import free_port
from tests.support.processes import Component

pytestmark = pytest.mark.services

BIN = Path(sys.executable).parent
NAMESPACE = "iss-tracker"
PRODUCER_JOB = "iss-iss-tracker-producer"
ENRICHER_JOB = "iss-iss-tracker-enricher"
# The chart's rules for this release, with thresholds and windows of seconds.
RULE_VALUES = {
    "operator.enabled": "false",
    "alerting.rules.storedDataStale.thresholdSeconds": "6",
    "alerting.rules.storedDataStale.for": "2s",
    "alerting.rules.deadLetters.window": "10s",
    "alerting.rules.producerFallback.for": "3s",
}
TIMEOUT_S = 60.0


class Webhook:
    """An HTTP receiver of Alertmanager's webhook notifications, on 127.0.0.1."""

    def __init__(self) -> None:
        self.notifications: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with hook._lock:
                    hook.notifications.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/alerts"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def received(self, alertname: str, status: str) -> list[dict[str, Any]]:
        """Alerts named `alertname` with `status` in the notifications so far."""
        with self._lock:
            return [
                alert
                for note in self.notifications
                for alert in note["alerts"]
                if alert["labels"]["alertname"] == alertname and alert["status"] == status
            ]

    def wait_for(self, alertname: str, status: str, timeout: float = TIMEOUT_S) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not (found := self.received(alertname, status)):
            if time.monotonic() > deadline:
                seen = [
                    (alert["labels"]["alertname"], alert["status"])
                    for note in self.notifications
                    for alert in note["alerts"]
                ]
                raise AssertionError(f"no {status} {alertname} in {timeout:.0f} s; got {seen}")
            time.sleep(0.25)
        return found[-1]


@dataclass
class Alerting:
    """The running pipeline, the Prometheus that evaluates the rules, the webhook."""

    kafka: Kafka
    raw_topic: str
    prometheus: Prometheus
    webhook: Webhook
    wheretheiss: ScriptedServer
    producer: Component
    enricher: Component

    def logs(self) -> str:
        return "\n".join(c.tail() for c in (self.producer, self.enricher))

    def panel(self) -> dict[str, float]:
        """The alerts panel of the pipeline-health dashboard now: alert name -> 1 or 0."""
        expr = expand_promql(ALERTS_PANEL_EXPR, promql_context())
        return {s["metric"]["alertname"]: float(s["value"][1]) for s in self.prometheus.query(expr)}


def _rows(dsn: str) -> int:
    try:
        with psycopg.connect(dsn) as conn:
            row = conn.execute("SELECT count(*) FROM positions").fetchone()
    except psycopg.Error:
        return 0
    return int(row[0]) if row else 0


def _wait(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout:.0f} s"
        time.sleep(0.25)


@pytest.fixture(scope="module")
def alerting(
    kafka: Kafka,
    postgres: Postgres,
    devstack_settings: DevstackSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Alerting]:
    work = tmp_path_factory.mktemp("alerts-live")
    rules = work / "alerts.yml"
    rules.write_text(prometheus_files(helm_template(sets=RULE_VALUES))["alerts.yml"])
    raw, enriched, deadletter = (f"test-{uuid.uuid4().hex[:10]}" for _ in range(3))
    kafka.create_topic(raw, 1)
    kafka.create_topic(enriched, 1)
    kafka.create_topic(deadletter, 1)
    dsn = postgres.create_database(f"test_{uuid.uuid4().hex[:10]}")
    producer_port, enricher_port = free_port(), free_port()
    while enricher_port == producer_port:
        enricher_port = free_port()

    with ExitStack() as cleanup:
        webhook = Webhook()
        cleanup.callback(webhook.close)
        alertmanager = Alertmanager.for_tests(
            devstack_settings, work / "alertmanager", webhook_config(webhook.url)
        )
        alertmanager.start()
        cleanup.callback(alertmanager.stop)
        prometheus = Prometheus.for_tests(
            devstack_settings,
            work / "prometheus",
            rule_files=[rules],
            alertmanagers=[alertmanager.address],
        )

        wheretheiss = ScriptedServer()
        cleanup.callback(wheretheiss.close)
        wheretheiss.responder = lambda _n: Reply(200, wheretheiss_body(time.time(), latitude=91.0))
        enricher = Component.start(
            "iss-enricher",
            [str(BIN / "iss-enricher"), "--migrate"],
            {
                "PATH": str(BIN),
                "ISS_ENRICHER_BOOTSTRAP_SERVERS": kafka.bootstrap,
                "ISS_ENRICHER_RAW_TOPIC": raw,
                "ISS_ENRICHER_ENRICHED_TOPIC": enriched,
                "ISS_ENRICHER_DEADLETTER_TOPIC": deadletter,
                "ISS_ENRICHER_CONSUMER_GROUP": f"iss-enricher-{raw}",
                "ISS_ENRICHER_DATABASE_DSN": dsn,
                "ISS_ENRICHER_METRICS_HOST": "127.0.0.1",
                "ISS_ENRICHER_METRICS_PORT": str(enricher_port),
                "ISS_ENRICHER_RECOVERY_DIRECTORY": str(work / "recovery"),
                "ISS_ENRICHER_LOG_FORMAT": "text",
            },
            work / "enricher.log",
        )
        cleanup.callback(enricher.stop)
        # A frozen enricher cannot stop: resume it first (callbacks run last-in first-out).
        cleanup.callback(enricher.process.send_signal, signal.SIGCONT)
        producer = Component.start(
            "iss-producer",
            [str(BIN / "iss-producer")],
            {
                "PATH": str(BIN),
                "ISS_PRODUCER_BOOTSTRAP_SERVERS": kafka.bootstrap,
                "ISS_PRODUCER_TOPIC": raw,
                "ISS_PRODUCER_SOURCES": "wheretheiss,sgp4",
                "ISS_PRODUCER_WHERETHEISS_URL": wheretheiss.url,
                "ISS_PRODUCER_FAILURES_BEFORE_FALLBACK": "1",
                "ISS_PRODUCER_PRIMARY_PROBE_SECONDS": "1",
                "ISS_PRODUCER_TICK_SECONDS": "0.5",
                "ISS_PRODUCER_METRICS_HOST": "127.0.0.1",
                "ISS_PRODUCER_METRICS_PORT": str(producer_port),
                "ISS_PRODUCER_SHUTDOWN_GRACE_SECONDS": "5",
                "ISS_PRODUCER_LOG_FORMAT": "text",
            },
            work / "producer.log",
        )
        cleanup.callback(producer.stop)
        run = Alerting(kafka, raw, prometheus, webhook, wheretheiss, producer, enricher)

        # Rules are evaluated from the first scrape on: Prometheus starts once rows are being
        # stored, so the stale alert does not fire for the enricher's start-up.
        _wait(lambda: producer.alive() and enricher.alive() and _rows(dsn) >= 3, "rows stored")
        prometheus.targets_dir.mkdir(parents=True)
        for job, port in ((PRODUCER_JOB, producer_port), (ENRICHER_JOB, enricher_port)):
            prometheus.add_target(job, f"127.0.0.1:{port}", {"namespace": NAMESPACE})
        prometheus.start()
        cleanup.callback(prometheus.stop)
        try:
            yield run
        except BaseException:
            sys.stderr.write(run.logs())
            raise
        assert producer.alive(), run.logs()
        assert enricher.alive(), run.logs()


def _labels(alert: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in alert["labels"].items() if k in ("namespace", "job", "severity")}


def test_prometheus_loads_the_rules_the_chart_renders_for_the_release(alerting: Alerting) -> None:
    def rules() -> list[dict[str, Any]]:
        response = requests.get(f"{alerting.prometheus.url}/api/v1/rules", timeout=10)
        return [rule for group in response.json()["data"]["groups"] for rule in group["rules"]]

    _wait(lambda: all(rule["health"] == "ok" for rule in rules()), "every rule evaluated")
    assert {rule["name"] for rule in rules()} == {
        "IssStoredDataStale",
        "IssConsumerLagHigh",
        "IssDeadLettersArriving",
        "IssProducerOnFallbackSource",
    }


def test_a_producer_on_its_fallback_source_fires_and_resolves_when_the_primary_answers(
    alerting: Alerting,
) -> None:
    firing = alerting.webhook.wait_for("IssProducerOnFallbackSource", "firing")
    assert _labels(firing) == {"namespace": NAMESPACE, "job": PRODUCER_JOB, "severity": "warning"}
    _wait(lambda: alerting.panel().get("IssProducerOnFallbackSource") == 1, "panel shows firing")

    alerting.wheretheiss.responder = lambda _n: Reply(200, wheretheiss_body(time.time()))

    resolved = alerting.webhook.wait_for("IssProducerOnFallbackSource", "resolved")
    assert resolved["startsAt"] == firing["startsAt"]
    _wait(lambda: alerting.panel().get("IssProducerOnFallbackSource") == 0, "panel shows resolved")


def test_a_dead_letter_fires_at_once_and_resolves_after_the_window(alerting: Alerting) -> None:
    producer = KafkaProducer({"bootstrap.servers": alerting.kafka.bootstrap})
    producer.produce(alerting.raw_topic, value=b"<html>502 Bad Gateway</html>", key=b"25544")
    assert producer.flush(30) == 0

    firing = alerting.webhook.wait_for("IssDeadLettersArriving", "firing")
    assert _labels(firing) == {"namespace": NAMESPACE, "job": ENRICHER_JOB, "severity": "warning"}
    assert "rejected about 1 records" in firing["annotations"]["description"]

    alerting.webhook.wait_for("IssDeadLettersArriving", "resolved")


def test_a_frozen_enricher_makes_stored_data_stale_until_it_resumes(alerting: Alerting) -> None:
    assert not alerting.webhook.received("IssStoredDataStale", "firing")

    alerting.enricher.process.send_signal(signal.SIGSTOP)
    try:
        firing = alerting.webhook.wait_for("IssStoredDataStale", "firing")
    finally:
        alerting.enricher.process.send_signal(signal.SIGCONT)
    assert _labels(firing) == {"namespace": NAMESPACE, "job": ENRICHER_JOB, "severity": "critical"}

    alerting.webhook.wait_for("IssStoredDataStale", "resolved")
