"""Prometheus metrics of one gateway, in a registry of its own (several can share a process)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        counter = partial(Counter, registry=self.registry)
        gauge = partial(Gauge, registry=self.registry)
        self.connections = gauge("iss_liveview_clients", "Browsers connected to the WebSocket now")
        self.connections_total = counter(
            "iss_liveview_connections_total", "WebSocket connections accepted"
        )
        self.rejected = counter(
            "iss_liveview_rejected_connections_total", "WebSocket handshakes refused", ["reason"]
        )
        self.disconnects = counter(
            "iss_liveview_disconnects_total", "Browsers disconnected by the gateway", ["reason"]
        )
        self.consumed = counter(
            "iss_liveview_messages_consumed_total", "Enriched positions read from Kafka"
        )
        self.invalid = counter(
            "iss_liveview_messages_invalid_total",
            "Values on the enriched topic that were not a drawable position",
        )
        self.duplicates = counter(
            "iss_liveview_duplicates_dropped_total",
            "Positions dropped because the same (norad_id, event_time) was already forwarded",
        )
        self.sent = counter("iss_liveview_frames_sent_total", "Frames written to browsers")
        self.dropped = counter(
            "iss_liveview_frames_dropped_total", "Frames dropped because a browser's queue was full"
        )
        self.kafka_connected = gauge(
            "iss_liveview_kafka_assigned",
            "1 while the consumer has the topic's partitions assigned",
        )
        self.last_message = gauge(
            "iss_liveview_last_message_timestamp_seconds",
            "Unix time the last enriched position was read from Kafka",
        )
        self.kafka_to_gateway = Histogram(
            "iss_liveview_kafka_to_gateway_seconds",
            "Kafka record timestamp to the gateway's fan-out",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
