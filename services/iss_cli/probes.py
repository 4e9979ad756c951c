"""Thin I/O: each function asks one service one question and returns plain values.

Nothing here decides what is healthy; failures come back as values (None or a reason), so
one unreachable service never hides what the others say.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from prometheus_client.parser import text_string_to_metric_families

from iss_cli.report import Component, Position, State
from iss_contract.enriched import EnrichedSummary, InvalidEnrichedError, decode_summary
from iss_runtime.kafka_access import login_problem, topic_problem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Http:
    ok: bool
    detail: str
    body: str = ""


def http_get(url: str, timeout: float) -> Http:
    try:
        response = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        return Http(False, f"unreachable: {type(exc).__name__}")
    return Http(response.ok, f"HTTP {response.status_code}", response.text)


def scrape(url: str, timeout: float) -> tuple[Http, dict[str, float]]:
    """A /metrics endpoint's samples, summed per metric name (labels ignored)."""
    http = http_get(url, timeout)
    samples: dict[str, float] = {}
    if http.ok:
        for family in text_string_to_metric_families(http.body):
            for sample in family.samples:
                samples[sample.name] = samples.get(sample.name, 0.0) + sample.value
    return http, samples


def scrape_max(url: str, name: str, timeout: float) -> float | None:
    """The largest value of one metric at an endpoint (for timestamp gauges)."""
    http = http_get(url, timeout)
    if not http.ok:
        return None
    values = [
        s.value
        for family in text_string_to_metric_families(http.body)
        for s in family.samples
        if s.name == name
    ]
    return max(values) if values else None


def prometheus_value(base: str, expr: str, timeout: float) -> float | None:
    """A PromQL instant query reduced to one number (the first series), or None."""
    try:
        response = requests.get(
            f"{base.rstrip('/')}/api/v1/query", params={"query": expr}, timeout=timeout
        )
        response.raise_for_status()
        result = response.json()["data"]["result"]
    except (requests.RequestException, KeyError, ValueError) as exc:
        log.debug("Prometheus query %s failed: %s", expr, exc)
        return None
    if not result:
        return None
    return float(result[0]["value"][1])


@dataclass(frozen=True)
class KafkaFacts:
    reachable: bool
    detail: str
    lag: int | None = None
    dead_letters: int | None = None
    latest_enriched: EnrichedSummary | None = None


def _watermarks(
    consumer: Consumer, topic: str, timeout: float, denied: list[str], user: str | None
) -> dict[int, tuple[int, int]]:
    """Each partition's (low, high) offsets; none when the topic is missing or, said in
    `denied`, not authorized."""
    metadata = consumer.list_topics(topic, timeout=timeout)
    found = metadata.topics.get(topic)
    if found is None or found.error is not None:
        problem = None if found is None else topic_problem(topic, found.error, user, "describe")
        if problem is not None:
            denied.append(problem.message)
        return {}
    return {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
        for p in found.partitions
    }


def _last_value(
    consumer: Consumer,
    topic: str,
    marks: dict[int, tuple[int, int]],
    timeout: float,
    denied: list[str],
    user: str | None,
) -> EnrichedSummary | None:
    """The newest (by Kafka timestamp) message among the last one of each partition; none,
    said in `denied`, when the topic may be described but not read."""
    wanted = [TopicPartition(topic, p, high - 1) for p, (low, high) in marks.items() if high > low]
    if not wanted:
        return None
    consumer.assign(wanted)
    newest: tuple[int, EnrichedSummary] | None = None
    pending = len(wanted)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error() is not None:
            problem = topic_problem(topic, msg.error(), user)
            if problem is not None:
                denied.append(problem.message)
                break
            continue
        pending -= 1
        try:
            summary = decode_summary(msg.value())
        except InvalidEnrichedError:
            continue
        stamp = msg.timestamp()[1]
        if newest is None or stamp > newest[0]:
            newest = (stamp, summary)
    consumer.unassign()
    return None if newest is None else newest[1]


def _group_lag(
    consumer: Consumer, topic: str, marks: dict[int, tuple[int, int]], timeout: float
) -> int | None:
    """The consumer group's lag on `topic` (a partition without a commit counts from its low
    watermark); None when the group has committed nothing there."""
    if not marks:
        return None
    committed = consumer.committed([TopicPartition(topic, p) for p in marks], timeout=timeout)
    if not any(tp.offset >= 0 for tp in committed):
        return None
    return sum(
        marks[tp.partition][1] - (tp.offset if tp.offset >= 0 else marks[tp.partition][0])
        for tp in committed
    )


def _topics(
    bootstrap: str, timeout: float, extra: dict[str, str], user: str | None
) -> set[str] | KafkaFacts:
    """The cluster's topic names, or why Kafka is not reachable (a refused login says so)."""
    # log_level 0: connection failures are reported in the table, not as librdkafka noise.
    # A refused login shows only in the error callback: keep it to say why.
    refused: list[KafkaError] = []
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "socket.timeout.ms": int(timeout * 1000),
        "log_level": 0,
        "error_cb": refused.append,
        **extra,
    }
    admin = AdminClient(config)
    try:
        return set(admin.list_topics(timeout=timeout).topics)
    except KafkaException as exc:
        reason = exc.args[0].str() if exc.args and hasattr(exc.args[0], "str") else str(exc)
        admin.poll(0)  # serves the error callback
        login = login_problem(reversed(refused), user)
        if login is not None:
            return KafkaFacts(False, f"{bootstrap}: {login.message}")
        return KafkaFacts(False, f"{bootstrap} unreachable: {reason}")


def kafka_facts(
    bootstrap: str,
    raw_topic: str,
    enriched_topic: str,
    deadletter_topic: str,
    group: str,
    timeout: float,
    extra: dict[str, str] | None = None,
) -> KafkaFacts:
    """Reachability, the group's lag on the raw topic, dead letters kept, latest enriched value.

    `extra`: more client properties (SASL/TLS, iss_runtime.kafka_auth). A refused login is
    the reason Kafka is not reachable; a topic the ACLs do not grant is named in the detail,
    and what the other topics tell is still reported."""
    user = (extra or {}).get("sasl.username")
    topics = _topics(bootstrap, timeout, extra or {}, user)
    if isinstance(topics, KafkaFacts):
        return topics
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "socket.timeout.ms": int(timeout * 1000),
            "log_level": 0,
            **(extra or {}),
        }
    )
    denied: list[str] = []
    try:
        raw = _watermarks(consumer, raw_topic, timeout, denied, user)
        lag = _group_lag(consumer, raw_topic, raw, timeout)
        dead = _watermarks(consumer, deadletter_topic, timeout, denied, user)
        dead_letters = sum(high - low for low, high in dead.values()) if dead else None
        if deadletter_topic in topics and dead_letters is None:
            dead_letters = 0
        marks = _watermarks(consumer, enriched_topic, timeout, denied, user)
        latest = _last_value(consumer, enriched_topic, marks, timeout, denied, user)
    except KafkaException as exc:
        return KafkaFacts(True, f"{len(topics)} topics; query failed: {exc}")
    finally:
        consumer.close()
    detail = "; ".join([f"{bootstrap}, {len(topics)} topics", *denied])
    return KafkaFacts(True, detail, lag, dead_letters, latest)


@dataclass(frozen=True)
class DatabaseFacts:
    reachable: bool
    detail: str
    latest: Position | None = None
    freshness_s: float | None = None


def database_facts(dsn: str, timeout: float) -> DatabaseFacts:
    """The newest row of `positions` and how old its event time is, by the database clock."""
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=max(1, int(timeout))) as conn:
            info = conn.info
            where = f"{info.host}:{info.port}/{info.dbname}"
            row = conn.execute(
                "SELECT norad_id, event_time, latitude, longitude, altitude_km, source,"
                " extract(epoch FROM now() - event_time)"
                " FROM positions ORDER BY event_time DESC LIMIT 1"
            ).fetchone()
    except psycopg.errors.UndefinedTable:
        return DatabaseFacts(True, "no positions table yet (run iss-migrate)")
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[:1]
        return DatabaseFacts(False, f"unreachable: {first[0] if first else type(exc).__name__}")
    if row is None:
        return DatabaseFacts(True, f"{where}, no rows yet")
    position = Position(
        norad_id=int(row[0]),
        event_time=row[1],
        latitude=float(row[2]),
        longitude=float(row[3]),
        altitude_km=None if row[4] is None else float(row[4]),
        source=row[5],
    )
    return DatabaseFacts(True, where, position, float(row[6]))


def position_from_message(summary: EnrichedSummary) -> Position | None:
    try:
        return Position(
            norad_id=int(summary.norad_id),
            event_time=datetime.fromisoformat(summary.event_time).astimezone(UTC),
            latitude=summary.latitude,
            longitude=summary.longitude,
            altitude_km=None if summary.altitude_km is None else float(summary.altitude_km),
            source=summary.source,
        )
    except (TypeError, ValueError):
        return None


def cluster_components(kubeconfig: Path | None, namespace: str, timeout: float) -> list[Component]:
    """Each Deployment and StatefulSet in the namespace, up when all its replicas are ready."""
    from kubernetes import client, config

    try:
        api_client = config.new_client_from_config(
            config_file=None if kubeconfig is None else str(kubeconfig)
        )
        apps = client.AppsV1Api(api_client)
        workloads: Iterable[Any] = [
            *apps.list_namespaced_deployment(namespace, _request_timeout=timeout).items,
            *apps.list_namespaced_stateful_set(namespace, _request_timeout=timeout).items,
        ]
    except Exception as exc:  # the kubernetes client raises many unrelated types
        return [Component("kubernetes API", State.DOWN, f"{type(exc).__name__}: {exc}"[:120])]
    components = [Component("kubernetes API", State.UP, f"namespace {namespace}")]
    for workload in workloads:
        wanted = workload.spec.replicas if workload.spec.replicas is not None else 1
        ready = workload.status.ready_replicas or 0
        state = State.UP if wanted > 0 and ready >= wanted else State.DOWN
        kind = type(workload).__name__.removeprefix("V1")
        components.append(
            Component(workload.metadata.name, state, f"{kind} {ready}/{wanted} ready")
        )
    return components
