"""Prometheus metrics of the enricher (names from docs/contracts.md)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from iss_contract import metric_names as names

RECORDS_IN = Counter(names.RECORDS_IN, "Raw records read from Kafka.")
RECORDS_OUT = Counter(names.RECORDS_OUT, "Enriched positions committed to the positions table.")
RECORDS_REJECTED = Counter(
    names.RECORDS_REJECTED, "Records sent to the dead-letter topic.", ["reason"]
)
BATCH_WRITE_SECONDS = Histogram(
    names.BATCH_WRITE,
    "Time to write and commit one batch of positions, retries included.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
END_TO_END_LATENCY_SECONDS = Histogram(
    names.END_TO_END_LATENCY,
    "From a position's event time to its row being committed.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60, 300),
)
LAST_COMMITTED_EVENT = Gauge(
    names.LAST_COMMITTED,
    "Unix time of the newest event committed to the positions table (freshness).",
)
DUPLICATES_DROPPED = Counter(
    "iss_enricher_duplicates_dropped_total",
    "Positions dropped as duplicates of a recent event time.",
)
LATE_FOR_AGGREGATE = Counter(
    "iss_enricher_late_for_aggregate_total",
    "Positions that arrived after their aggregate window had closed (the window is then"
    " recounted from the stored positions).",
)
KAFKA_UNREACHABLE = Gauge(
    "iss_enricher_kafka_unreachable",
    "1 while the Kafka broker refuses the enricher's connections, 0 once it answers again.",
)
KAFKA_OUTAGES = Counter(
    "iss_enricher_kafka_outages_total", "Kafka outages seen by the enricher (each logged once)."
)
WINDOWS_RECOUNTED = Counter(
    "iss_enricher_windows_recounted_total",
    "Aggregate windows recounted from the stored positions because late positions arrived.",
)
GROUND_SPEED_WITHHELD = Counter(
    "iss_enricher_ground_speed_withheld_total",
    "Positions stored with a null ground speed (and heading) although a predecessor was near:"
    " the step was shorter than the minimum (short_step) or gave an impossible speed"
    " (implausible).",
    ["reason"],
)
SHORT_STEP = GROUND_SPEED_WITHHELD.labels("short_step")
IMPLAUSIBLE_SPEED = GROUND_SPEED_WITHHELD.labels("implausible")
MERGED_BATCHES = Counter(
    "iss_enricher_merged_batches_total",
    "Position batches that held already-stored rows and were merged with ON CONFLICT DO NOTHING.",
)
WRITE_RETRIES = Counter(
    "iss_enricher_write_retries_total",
    "Database write attempts that failed and were retried.",
    ["table"],
)


def observe_many(histogram: Histogram, values: Sequence[float]) -> None:
    """`histogram.observe(v)` for every value, with one update per bucket instead of per value.

    The positions sink observes the latency of every row; per value, `observe` costs a lock and
    a bucket scan each. This counts the values per bucket first. It relies on the attributes
    `observe` itself uses (checked by a test) and falls back to `observe` without them.
    """
    bounds: Any = getattr(histogram, "_upper_bounds", None)
    buckets: Any = getattr(histogram, "_buckets", None)
    total: Any = getattr(histogram, "_sum", None)
    if bounds is None or buckets is None or total is None or len(bounds) != len(buckets):
        for value in values:
            histogram.observe(value)
        return
    counts = [0] * len(bounds)
    for value in values:
        counts[bisect_left(bounds, value)] += 1  # the first bound >= value, as observe picks
    total.inc(sum(values))
    for index, count in enumerate(counts):
        if count:
            buckets[index].inc(count)


class _Collectable(Protocol):
    def collect(self) -> Iterable[Metric]: ...


class ConsumerLagCollector(Collector):
    """Re-export Bytewax's per-partition consumer lag as `iss_enricher_consumer_lag_messages`.

    Bytewax's Kafka source measures the lag from librdkafka statistics once a second and keeps it
    in its own gauge (`bytewax_kafka_consumer_lag{step_id, topic, partition}`).
    """

    def __init__(self, source: _Collectable) -> None:
        self._source = source

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            names.CONSUMER_LAG,
            "Messages between the newest offset on the broker and the consumed offset.",
            labels=["topic", "partition"],
        )
        for metric in self._source.collect():
            for sample in metric.samples:
                labels = [sample.labels.get("topic", ""), sample.labels.get("partition", "")]
                family.add_metric(labels, sample.value)
        yield family


_lag_registered = False


def register_lag_collector() -> None:
    """Add the lag collector to the default registry once."""
    global _lag_registered
    if not _lag_registered:
        from bytewax.connectors.kafka import BYTEWAX_CONSUMER_LAG_GAUGE

        REGISTRY.register(ConsumerLagCollector(BYTEWAX_CONSUMER_LAG_GAUGE))
        _lag_registered = True


def declare_rejection_series() -> None:
    """Create the dead-letter counter of every reason at 0, so `increase()` counts the first one
    (the chart's dead-letter alert relies on it)."""
    from iss_contract.deadletter import Reason

    for reason in Reason:
        RECORDS_REJECTED.labels(reason.value)


def serve(host: str, port: int) -> None:
    """Expose the default registry over HTTP (port 0 disables the endpoint)."""
    register_lag_collector()
    declare_rejection_series()
    if port:
        start_http_server(port, addr=host)


def kafka_outage(down: bool) -> None:
    """`KafkaLogGate`'s callback: an outage started (True) or ended (False)."""
    KAFKA_UNREACHABLE.set(1 if down else 0)
    if down:
        KAFKA_OUTAGES.inc()
