"""Prometheus metrics of the producer and the HTTP server for /metrics, /healthz and /readyz."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from iss_contract.metric_names import (
    CURRENT_SOURCE,
    DELIVERY_FAILURES,
    FETCH_DURATION,
    FETCHES,
    LAST_PUBLISH,
    MESSAGES_PRODUCED,
    PRODUCER_REJECTED,
    TLE_AGE,
)


class ProducerMetrics:
    """Every metric of docs/contracts.md exported by the producer, on its own registry."""

    def __init__(self, sources: Sequence[str], registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        counter = partial(Counter, registry=self.registry)
        gauge = partial(Gauge, registry=self.registry)
        self.fetches = counter(
            FETCHES, "Position fetches by source and outcome.", ["source", "outcome"]
        )
        self.fetch_duration = Histogram(
            FETCH_DURATION,
            "Duration of one position fetch, by source.",
            ["source"],
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self.rejected = counter(
            PRODUCER_REJECTED,
            "Source answers rejected as positions, by source and reason.",
            ["source", "reason"],
        )
        self.produced = counter(MESSAGES_PRODUCED, "Messages acknowledged by Kafka.")
        self.delivery_failures = counter(DELIVERY_FAILURES, "Messages Kafka did not acknowledge.")
        self.last_publish = gauge(
            LAST_PUBLISH, "Unix time of the last message acknowledged by Kafka."
        )
        self.current_source = gauge(
            CURRENT_SOURCE,
            "1 for the active source of the fallback chain, 0 for the others.",
            ["source"],
        )
        self.tle_age = gauge(
            TLE_AGE, "Age of the TLE used for SGP4 propagation (now minus its epoch)."
        )
        self.kafka_unreachable = gauge(
            "iss_producer_kafka_unreachable",
            "1 while the Kafka broker refuses the producer's connections, 0 once it answers again.",
        )
        self.kafka_outages = counter(
            "iss_producer_kafka_outages", "Kafka outages seen by the producer (each logged once)."
        )
        self._sources = tuple(sources)
        for source in self._sources:
            self.current_source.labels(source=source).set(0)
            self.fetch_duration.labels(source=source)

    def kafka_outage(self, down: bool) -> None:
        """`KafkaLogGate`'s callback: an outage started (True) or ended (False)."""
        self.kafka_unreachable.set(1 if down else 0)
        if down:
            self.kafka_outages.inc()

    def set_active(self, active: str) -> None:
        for source in self._sources:
            self.current_source.labels(source=source).set(1 if source == active else 0)


class Health:
    """Liveness: the main loop keeps ticking. Readiness: Kafka acknowledged a message recently."""

    def __init__(
        self, stall_s: float, stale_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stall_s = stall_s
        self.stale_s = stale_s
        self._clock = clock
        self._started = clock()
        self._last_tick = self._started
        self._last_ack: float | None = None

    def ticked(self) -> None:
        self._last_tick = self._clock()

    def acknowledged(self) -> None:
        self._last_ack = self._clock()

    def alive(self) -> bool:
        return self._clock() - self._last_tick < self.stall_s

    def ready(self) -> bool:
        return self._last_ack is not None and self._clock() - self._last_ack < self.stale_s


class MetricsServer:
    """A small threaded HTTP server; runs in a daemon thread."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry, health: Health) -> None:
        handler = _handler_class(registry, health)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics-http", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_class(registry: CollectorRegistry, health: Health) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._reply(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                ok = health.alive()
                self._reply(200 if ok else 503, b"ok\n" if ok else b"main loop stalled\n")
            elif path == "/readyz":
                ok = health.ready()
                self._reply(200 if ok else 503, b"ok\n" if ok else b"no recent Kafka ack\n")
            else:
                self._reply(404, b"not found\n")

        def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
