"""Every PromQL expression of the dashboards, evaluated by the real Prometheus.

The targets export the components' own metric objects (producer, enricher, operator), plus a
stand-in for kafka-exporter's ``kafka_consumergroup_lag``, with a background thread producing
traffic so rates and histogram quantiles have samples. test_dashboards_live.py and
test_dashboards_operator_live.py evaluate the producer's, enricher's and operator's expressions
against the running processes; the kafka-exporter expression is checked here only.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from iss_dashboards.defaults import PROMETHEUS_TYPE, scoped
from iss_dashboards.macros import expand_promql
from iss_dashboards.pipeline_health_dashboard import RAW_FRESHNESS, STORED_FRESHNESS
from iss_enricher import metrics as enricher
from iss_operator.metrics import build_metrics
from iss_producer.metrics import ProducerMetrics

from .fixtures import (
    ALERTS_METRIC,
    Query,
    finite_series,
    ids,
    promql_context,
    promql_queries,
    variable_queries,
)

pytestmark = pytest.mark.services

SOURCES = ("wheretheiss", "open-notify", "sgp4")
RAW_TOPIC = "iss.positions.raw"


class Traffic:
    """Metric registries shaped like the running pipeline, updated four times a second."""

    def __init__(self) -> None:
        self.producer = ProducerMetrics(SOURCES)
        self.operator = build_metrics()
        self.enricher = CollectorRegistry()
        for collector in (
            enricher.RECORDS_IN,
            enricher.RECORDS_OUT,
            enricher.RECORDS_REJECTED,
            enricher.BATCH_WRITE_SECONDS,
            enricher.END_TO_END_LATENCY_SECONDS,
            enricher.LAST_COMMITTED_EVENT,
        ):
            self.enricher.register(collector)
        bytewax_lag = Gauge(
            "bytewax_kafka_consumer_lag",
            "Stand-in for Bytewax's own lag gauge.",
            ["step_id", "topic", "partition"],
            registry=None,
        )
        bytewax_lag.labels(step_id="kafka-in", topic=RAW_TOPIC, partition="0").set(3)
        self.enricher.register(enricher.ConsumerLagCollector(bytewax_lag))
        self.exporter = CollectorRegistry()
        self.group_lag = Gauge(
            "kafka_consumergroup_lag",
            "Stand-in for kafka-exporter.",
            ["consumergroup", "topic", "partition"],
            registry=self.exporter,
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-traffic", daemon=True)

    def tick(self) -> None:
        now = time.time()
        p = self.producer
        p.set_active("wheretheiss")
        p.fetches.labels(source="wheretheiss", outcome="ok").inc()
        p.fetches.labels(source="open-notify", outcome="error").inc(0.1)
        p.fetch_duration.labels(source="wheretheiss").observe(0.12)
        p.rejected.labels(source="open-notify", reason="out_of_range").inc(0.1)
        p.produced.inc()
        p.delivery_failures.inc(0)
        p.last_publish.set(now - 0.2)
        p.tle_age.set(3600.0)
        enricher.RECORDS_IN.inc()
        enricher.RECORDS_OUT.inc()
        enricher.RECORDS_REJECTED.labels(reason="invalid_json").inc(0.1)
        enricher.BATCH_WRITE_SECONDS.observe(0.004)
        enricher.END_TO_END_LATENCY_SECONDS.observe(0.8)
        enricher.LAST_COMMITTED_EVENT.set(now - 0.9)
        o = self.operator
        o.checks.labels(pipeline="iss", outcome="running").inc()
        o.restarts.labels(pipeline="iss", component="enricher", reason="stale").inc(0.05)
        o.decision_seconds.observe(0.03)
        for partition in ("0", "1"):
            self.group_lag.labels(
                consumergroup="iss-enricher", topic=RAW_TOPIC, partition=partition
            ).set(2)

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.tick()

    def start(self) -> None:
        self.tick()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.fixture(scope="module")
def scraped(prometheus: Any) -> Iterator[Any]:
    """The component registries served on free ports and scraped by the test Prometheus."""
    traffic = Traffic()
    traffic.start()
    servers = []
    for job, registry in (
        ("iss-producer", traffic.producer.registry),
        ("iss-enricher", traffic.enricher),
        ("iss-operator", traffic.operator.registry),
        ("kafka-exporter", traffic.exporter),
    ):
        server, _thread = start_http_server(0, addr="127.0.0.1", registry=registry)
        servers.append(server)
        prometheus.add_target(job, f"127.0.0.1:{server.server_port}")
    yield prometheus
    for server in servers:
        server.shutdown()
        server.server_close()
    traffic.stop()


ALL_PROMQL = promql_queries()
# ALERTS exists only where rules are evaluated: tests/charts/test_alerts_live.py runs those.
SCRAPED_PROMQL = [query for query in ALL_PROMQL if not ALERTS_METRIC.search(query.text)]


def test_dashboards_have_promql_for_every_contract_metric_family() -> None:
    text = " ".join(query.text for query in ALL_PROMQL)
    for name in (
        "kafka_consumergroup_lag",
        "iss_enricher_consumer_lag_messages",
        "iss_producer_messages_produced_total",
        "iss_enricher_end_to_end_latency_seconds_bucket",
        "iss_enricher_records_rejected_total",
        "iss_enricher_batch_write_seconds_bucket",
        "iss_operator_checks_total",
        "iss_operator_restarts_total",
        "iss_producer_current_source",
        "iss_producer_fetches_total",
    ):
        assert name in text


@pytest.mark.parametrize("query", SCRAPED_PROMQL, ids=ids(SCRAPED_PROMQL))
def test_every_dashboard_expression_returns_series(scraped: Any, query: Query) -> None:
    expr = expand_promql(query.text, promql_context())

    assert finite_series(scraped, expr)


def test_consumer_lag_is_split_by_group_and_partition(scraped: Any) -> None:
    result = finite_series(
        scraped, "sum by (consumergroup, topic, partition) (kafka_consumergroup_lag)"
    )

    assert {(s["metric"]["consumergroup"], s["metric"]["partition"]) for s in result} == {
        ("iss-enricher", "0"),
        ("iss-enricher", "1"),
    }


def test_freshness_expressions_measure_seconds_since_the_last_event(scraped: Any) -> None:
    for expr in (STORED_FRESHNESS, RAW_FRESHNESS):
        value = float(finite_series(scraped, expr)[0]["value"][1])
        assert 0.0 <= value < 15.0


def test_active_source_is_the_one_set_by_the_producer(scraped: Any) -> None:
    result = finite_series(scraped, "max by (source) (iss_producer_current_source)")

    active = {s["metric"]["source"] for s in result if float(s["value"][1]) == 1.0}
    assert active == {"wheretheiss"}


LABEL_VALUES = re.compile(r"^label_values\((?:(?P<match>.+), )?(?P<label>\w+)\)$")


def _variable_values(prometheus_url: str, query: Query, variables: dict[str, str]) -> list[str]:
    """What Grafana lists for a `label_values` variable: the label's values over the matching
    series (the label values API), through the variable's regex."""
    parsed = LABEL_VALUES.match(query.text)
    assert parsed is not None, query.text
    match = parsed["match"]
    for name, value in variables.items():
        match = match.replace(f"${name}", value)
    url = f"{prometheus_url}/api/v1/label/{parsed['label']}/values?" + urllib.parse.urlencode(
        {"match[]": match}
    )
    with urllib.request.urlopen(url, timeout=10) as answer:
        values: list[str] = json.load(answer)["data"]
    regex = query.panel.get("regex")
    if not regex:
        return sorted(values)
    pattern = re.compile(regex.strip("/"))
    return sorted(m[1] for m in map(pattern.match, values) if m)


def test_the_namespace_and_release_variables_scope_every_panel_to_one_release(
    prometheus: Any,
) -> None:
    traffic = Traffic()
    traffic.tick()
    server, _thread = start_http_server(0, addr="127.0.0.1", registry=traffic.producer.registry)
    address = f"127.0.0.1:{server.server_port}"
    releases = {"team-a": "iss-a-iss-tracker", "team-b": "iss-b-iss-tracker"}
    try:
        for namespace, release in releases.items():
            prometheus.add_target(f"{release}-producer", address, {"namespace": namespace})
        for namespace in releases:
            prometheus.wait_for(
                f'iss_producer_last_publish_timestamp_seconds{{namespace="{namespace}"}}'
            )
        namespace_var, release_var = variable_queries(PROMETHEUS_TYPE)
        namespaces = _variable_values(prometheus.url, namespace_var, {})
        assert {"team-a", "team-b"} <= set(namespaces)
        assert _variable_values(prometheus.url, release_var, {"namespace": "team-a"}) == [
            "iss-a-iss-tracker"
        ]
        raw = next(q for q in ALL_PROMQL if q.text == scoped(RAW_FRESHNESS))
        for namespace, release in releases.items():
            chosen = {"namespace": namespace, "release": release}
            expr = expand_promql(raw.text, replace(promql_context(), variables=chosen))
            assert len(prometheus.query(f"count({expr})")) == 1
        other = {"namespace": "team-a", "release": "iss-b-iss-tracker"}
        expr = expand_promql(raw.text, replace(promql_context(), variables=other))
        assert prometheus.query(expr) == []
    finally:
        for release in releases.values():
            prometheus.remove_target(f"{release}-producer", address)
        server.shutdown()
        server.server_close()
