"""Put the probes' answers together into one Report (the only place that calls probes)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from iss_cli import probes
from iss_cli.report import Component, Measure, Report, State
from iss_cli.settings import StatusSettings
from iss_runtime.kafka_auth import sasl_config

STORED = "max(iss_enricher_last_committed_event_timestamp_seconds)"
INPUT = "max(iss_producer_last_publish_timestamp_seconds)"
LAG = "sum(iss_enricher_consumer_lag_messages)"
REJECTED = "sum(iss_enricher_records_rejected_total)"


def _age(timestamp: float | None, now: float) -> float | None:
    return None if timestamp is None or timestamp <= 0 else max(0.0, now - timestamp)


def _endpoint(name: str, url: str | None, timeout: float, required: bool = True) -> Component:
    if url is None:
        return Component(name, State.ABSENT, "not checked", required=False)
    http = probes.http_get(url, timeout)
    if http.ok:
        return Component(name, State.UP, url)
    return Component(
        name, State.DOWN if required else State.ABSENT, f"{url}: {http.detail}", required=required
    )


def _liveview(url: str | None, timeout: float) -> Component:
    component = _endpoint("live view", url, timeout)
    if component.state is State.UP:
        health = json.loads(probes.http_get(url or "", timeout).body or "{}")
        return Component("live view", State.UP, f"{health.get('clients', 0)} browser(s)")
    return component


def gather(settings: StatusSettings) -> Report:
    now = time.time()
    timeout = settings.timeout_s
    namespace = settings.namespace
    cluster = namespace is not None
    components: list[Component] = []
    if namespace is not None:
        components += probes.cluster_components(settings.kubeconfig, namespace, timeout)

    stored = Measure(None)
    raw_input = Measure(None)
    lag = Measure(None)
    dead = Measure(None)
    latest = None

    if settings.bootstrap:
        kafka = probes.kafka_facts(
            settings.bootstrap,
            settings.raw_topic,
            settings.enriched_topic,
            settings.deadletter_topic,
            settings.consumer_group,
            timeout,
            sasl_config(
                settings.kafka_username,
                settings.kafka_password,
                settings.kafka_security_protocol,
                settings.kafka_ssl_ca_location,
            ),
        )
        components.append(
            Component("kafka", State.UP if kafka.reachable else State.DOWN, kafka.detail)
        )
        if kafka.lag is not None:
            lag = Measure(kafka.lag, f"group {settings.consumer_group}")
        if kafka.dead_letters is not None:
            dead = Measure(kafka.dead_letters, settings.deadletter_topic)
        if kafka.latest_enriched is not None:
            latest = probes.position_from_message(kafka.latest_enriched)

    if settings.dsn is not None:
        db = probes.database_facts(settings.dsn.get_secret_value(), timeout)
        components.append(
            Component("postgresql", State.UP if db.reachable else State.DOWN, db.detail)
        )
        if db.freshness_s is not None:
            stored = Measure(db.freshness_s, "newest row")
        latest = db.latest or latest

    if settings.prometheus:
        ready = probes.http_get(f"{settings.prometheus.rstrip('/')}/-/ready", timeout)
        components.append(
            Component(
                "prometheus",
                State.UP if ready.ok else State.DOWN,
                settings.prometheus if ready.ok else ready.detail,
            )
        )
        if ready.ok:
            query = settings.prometheus
            if stored.value is None:
                stored = Measure(
                    _age(probes.prometheus_value(query, STORED, timeout), now), "prometheus"
                )
            raw_input = Measure(
                _age(probes.prometheus_value(query, INPUT, timeout), now), "prometheus"
            )
            if lag.value is None:
                lag = Measure(probes.prometheus_value(query, LAG, timeout), "prometheus")
            if dead.value is None:
                dead = Measure(
                    probes.prometheus_value(query, REJECTED, timeout),
                    "rejected since start, prometheus",
                )

    if not cluster:
        components.append(_endpoint("producer", settings.producer_metrics, timeout))
        components.append(_endpoint("enricher", settings.enricher_metrics, timeout))
        components.append(_liveview(settings.liveview_health, timeout))
        components.append(_endpoint("operator", settings.operator_metrics, timeout, required=False))
        if raw_input.value is None and settings.producer_metrics:
            stamp = probes.scrape_max(
                settings.producer_metrics, "iss_producer_last_publish_timestamp_seconds", timeout
            )
            raw_input = Measure(_age(stamp, now), "producer metrics")
        if stored.value is None and settings.enricher_metrics:
            stamp = probes.scrape_max(
                settings.enricher_metrics,
                "iss_enricher_last_committed_event_timestamp_seconds",
                timeout,
            )
            stored = Measure(_age(stamp, now), "enricher metrics")

    target = f"namespace {settings.namespace}" if cluster else "local stack"
    return Report(
        target=target,
        at=datetime.fromtimestamp(now, tz=UTC),
        components=components,
        stored_freshness_s=stored,
        input_freshness_s=raw_input,
        consumer_lag=lag,
        dead_letters=dead,
        latest=latest,
    )
