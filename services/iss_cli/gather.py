"""Put the probes' answers together into one Report (the only place that calls probes)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from iss_cli import probes
from iss_cli.report import Component, Measure, Position, Report, State
from iss_cli.settings import StatusSettings
from iss_contract.metric_names import (
    CONSUMER_LAG,
    LAST_COMMITTED,
    LAST_PUBLISH,
    RECORDS_REJECTED,
)
from iss_runtime.kafka_auth import sasl_config

STORED = f"max({LAST_COMMITTED})"
INPUT = f"max({LAST_PUBLISH})"
LAG = f"sum({CONSUMER_LAG})"
REJECTED = f"sum({RECORDS_REJECTED})"


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


@dataclass
class _Facts:
    """What the probes have found so far; a later probe fills only what an earlier one could
    not (the database's own clock beats Prometheus, which beats a scrape of one process)."""

    now: float
    components: list[Component] = field(default_factory=list)
    stored: Measure = field(default_factory=lambda: Measure(None))
    raw_input: Measure = field(default_factory=lambda: Measure(None))
    lag: Measure = field(default_factory=lambda: Measure(None))
    dead: Measure = field(default_factory=lambda: Measure(None))
    latest: Position | None = None


def _cluster(settings: StatusSettings, facts: _Facts) -> None:
    if settings.namespace is not None:
        facts.components += probes.cluster_components(
            settings.kubeconfig, settings.namespace, settings.timeout_s
        )


def _kafka(settings: StatusSettings, facts: _Facts) -> None:
    if not settings.bootstrap:
        return
    kafka = probes.kafka_facts(
        settings.bootstrap,
        settings.raw_topic,
        settings.enriched_topic,
        settings.deadletter_topic,
        settings.consumer_group,
        settings.timeout_s,
        sasl_config(
            settings.kafka_username,
            settings.kafka_password,
            settings.kafka_security_protocol,
            settings.kafka_ssl_ca_location,
        ),
    )
    facts.components.append(
        Component("kafka", State.UP if kafka.reachable else State.DOWN, kafka.detail)
    )
    if kafka.lag is not None:
        facts.lag = Measure(kafka.lag, f"group {settings.consumer_group}")
    if kafka.dead_letters is not None:
        facts.dead = Measure(kafka.dead_letters, settings.deadletter_topic)
    if kafka.latest_enriched is not None:
        facts.latest = probes.position_from_message(kafka.latest_enriched)


def _database(settings: StatusSettings, facts: _Facts) -> None:
    if settings.dsn is None:
        return
    db = probes.database_facts(settings.dsn.get_secret_value(), settings.timeout_s)
    facts.components.append(
        Component("postgresql", State.UP if db.reachable else State.DOWN, db.detail)
    )
    if db.freshness_s is not None:
        facts.stored = Measure(db.freshness_s, "newest row")
    facts.latest = db.latest or facts.latest


def _prometheus(settings: StatusSettings, facts: _Facts) -> None:
    if not settings.prometheus:
        return
    timeout = settings.timeout_s
    ready = probes.http_get(f"{settings.prometheus.rstrip('/')}/-/ready", timeout)
    detail = settings.prometheus if ready.ok else ready.detail
    facts.components.append(Component("prometheus", State.UP if ready.ok else State.DOWN, detail))
    if not ready.ok:
        return

    def value(expr: str) -> float | None:
        return probes.prometheus_value(settings.prometheus or "", expr, timeout)

    if facts.stored.value is None:
        facts.stored = Measure(_age(value(STORED), facts.now), "prometheus")
    facts.raw_input = Measure(_age(value(INPUT), facts.now), "prometheus")
    if facts.lag.value is None:
        facts.lag = Measure(value(LAG), "prometheus")
    if facts.dead.value is None:
        facts.dead = Measure(value(REJECTED), "rejected since start, prometheus")


def _local_processes(settings: StatusSettings, facts: _Facts) -> None:
    """The local stack's processes, by their metrics and health endpoints (not in a cluster,
    where the Deployments and StatefulSets say it)."""
    if settings.namespace is not None:
        return
    timeout = settings.timeout_s
    facts.components += [
        _endpoint("producer", settings.producer_metrics, timeout),
        _endpoint("enricher", settings.enricher_metrics, timeout),
        _liveview(settings.liveview_health, timeout),
        _endpoint("operator", settings.operator_metrics, timeout, required=False),
    ]
    if facts.raw_input.value is None and settings.producer_metrics:
        stamp = probes.scrape_max(settings.producer_metrics, LAST_PUBLISH, timeout)
        facts.raw_input = Measure(_age(stamp, facts.now), "producer metrics")
    if facts.stored.value is None and settings.enricher_metrics:
        stamp = probes.scrape_max(settings.enricher_metrics, LAST_COMMITTED, timeout)
        facts.stored = Measure(_age(stamp, facts.now), "enricher metrics")


PROBES: tuple[Callable[[StatusSettings, _Facts], None], ...] = (
    _cluster,
    _kafka,
    _database,
    _prometheus,
    _local_processes,
)
"""The probes in the order they run: each fills in what the ones before it left open."""


def gather(settings: StatusSettings) -> Report:
    facts = _Facts(now=time.time())
    for probe in PROBES:
        probe(settings, facts)
    cluster = settings.namespace is not None
    return Report(
        target=f"namespace {settings.namespace}" if cluster else "local stack",
        at=datetime.fromtimestamp(facts.now, tz=UTC),
        components=facts.components,
        stored_freshness_s=facts.stored,
        input_freshness_s=facts.raw_input,
        consumer_lag=facts.lag,
        dead_letters=facts.dead,
        latest=facts.latest,
    )
