"""Kafka output: enriched positions and dead letters, each a (key, value) pair of bytes.

Unlike a fire-and-forget producer, a batch counts as written only once the broker has
acknowledged every message, so recovery's at-least-once promise holds for these topics too.
While the broker is away, the writer waits (message.timeout.ms = 0: no expiry) and the dataflow
stalls instead of losing messages. It waits in short flushes, so that the main thread gets back
to Python often enough for a stop signal to be handled (`iss_enricher.stopping`).
"""

from __future__ import annotations

import logging
from typing import Any

from bytewax.outputs import DynamicSink, StatelessSinkPartition
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from iss_contract.limits import MAX_MESSAGE_BYTES
from iss_enricher import kafka_clients

logger = logging.getLogger(__name__)

KeyValue = tuple[bytes | None, bytes]


class DeliveryError(RuntimeError):
    """The broker refused a message for a reason that waiting does not fix."""


def producer_config(
    bootstrap: str, extra: dict[str, Any] | None = None, max_message_bytes: int = MAX_MESSAGE_BYTES
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        # The topics' max.message.bytes (iss_contract.limits): a message the topic would refuse
        # is refused here, before it is queued.
        "message.max.bytes": max_message_bytes,
        # Not idempotent: the output is at-least-once anyway (recovery replays a tail), readers
        # key on (norad_id, event_time), and an idempotent producer stalls until the broker's
        # transaction coordinator is up, which on a fresh cluster takes many seconds.
        "acks": "all",
        "linger.ms": 5,
        "compression.type": "lz4",
        "message.timeout.ms": 0,
        # Delivery callbacks for failures only: a Python call per acknowledged message is a
        # measurable cost at full speed, and `flush` waits for every acknowledgement anyway.
        "delivery.report.only.error": True,
        **kafka_clients.logging_properties(),
    }
    config.update(extra or {})
    return kafka_clients.common(config)


FLUSH_SLICE_SECONDS = 0.25
"""Longest single wait for acknowledgements (signal handlers run in between)."""


def flush_all(producer: Producer) -> None:
    """Wait until every queued message is acknowledged or failed, in short slices."""
    while producer.flush(FLUSH_SLICE_SECONDS) > 0:
        pass


class TopicWriter(StatelessSinkPartition[KeyValue]):
    """Sends batches of (key, value) pairs to one topic, each batch until all are acknowledged."""

    def __init__(self, producer: Producer, topic: str) -> None:
        self._producer = producer
        self._topic = topic
        self._errors: list[KafkaError] = []

    def _delivered(self, err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            self._errors.append(err)

    def write_batch(self, items: list[KeyValue]) -> None:
        self.write_messages(items)

    def write_messages(self, items: list[KeyValue]) -> None:
        """Send the messages; return once the broker has acknowledged every one of them."""
        if not items:
            return
        pending: list[dict[str, Any]] = [{"key": key, "value": value} for key, value in items]
        while pending:
            # One call queues the whole list; what does not fit is marked "Queue full" (always
            # a tail: the queue fills in order) and retried once the queue drained a little.
            queued = self._producer.produce_batch(self._topic, pending, on_delivery=self._delivered)
            if queued == len(pending):
                break
            refused = [message for message in pending if "_error" in message]
            for message in refused:
                error: KafkaError = message.pop("_error")
                if error.code() != KafkaError._QUEUE_FULL:
                    raise KafkaException(error)
            self._producer.poll(0.05)
            pending = refused
        flush_all(self._producer)
        kafka_clients.log_gate()[1].reachable()
        if self._errors:
            errors, self._errors = self._errors, []
            raise DeliveryError(f"{len(errors)} message(s) to {self._topic} failed: {errors[0]}")

    def close(self) -> None:
        flush_all(self._producer)


class TopicSink(DynamicSink[KeyValue]):
    """Write (key, value) pairs to one Kafka topic, waiting for every acknowledgement."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        extra: dict[str, Any] | None = None,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self._config = producer_config(bootstrap, extra, max_message_bytes)
        self._topic = topic

    def build(self, step_id: str, worker_index: int, worker_count: int) -> TopicWriter:
        return TopicWriter(Producer(self._config), self._topic)
