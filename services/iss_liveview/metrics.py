"""Prometheus metrics of one gateway, in a registry of its own (several can share a process)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.connections = Gauge(
            "iss_liveview_clients", "Browsers connected to the WebSocket now", registry=r
        )
        self.connections_total = Counter(
            "iss_liveview_connections_total", "WebSocket connections accepted", registry=r
        )
        self.rejected = Counter(
            "iss_liveview_rejected_connections_total",
            "WebSocket handshakes refused",
            ["reason"],
            registry=r,
        )
        self.disconnects = Counter(
            "iss_liveview_disconnects_total",
            "Browsers disconnected by the gateway",
            ["reason"],
            registry=r,
        )
        self.consumed = Counter(
            "iss_liveview_messages_consumed_total",
            "Enriched positions read from Kafka",
            registry=r,
        )
        self.invalid = Counter(
            "iss_liveview_messages_invalid_total",
            "Values on the enriched topic that were not a drawable position",
            registry=r,
        )
        self.duplicates = Counter(
            "iss_liveview_duplicates_dropped_total",
            "Positions dropped because the same (norad_id, event_time) was already forwarded",
            registry=r,
        )
        self.sent = Counter(
            "iss_liveview_frames_sent_total", "Frames written to browsers", registry=r
        )
        self.dropped = Counter(
            "iss_liveview_frames_dropped_total",
            "Frames dropped because a browser's queue was full",
            registry=r,
        )
        self.kafka_connected = Gauge(
            "iss_liveview_kafka_assigned",
            "1 while the consumer has the topic's partitions assigned",
            registry=r,
        )
        self.last_message = Gauge(
            "iss_liveview_last_message_timestamp_seconds",
            "Unix time the last enriched position was read from Kafka",
            registry=r,
        )
        self.kafka_to_gateway = Histogram(
            "iss_liveview_kafka_to_gateway_seconds",
            "Kafka record timestamp to the gateway's fan-out",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
