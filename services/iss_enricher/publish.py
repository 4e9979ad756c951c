"""Kafka output: enriched positions and dead letters, each a (key, value) pair of bytes.

Unlike a fire-and-forget producer, a batch counts as written only once the broker has
acknowledged every message, so recovery's at-least-once promise holds for these topics too.
While the broker is away, `flush` waits (message.timeout.ms = 0: no expiry) and the dataflow
stalls instead of losing messages.
"""

from __future__ import annotations

import logging
from typing import Any

from bytewax.outputs import DynamicSink, StatelessSinkPartition
from confluent_kafka import KafkaError, KafkaException, Message, Producer

logger = logging.getLogger(__name__)

KeyValue = tuple[bytes | None, bytes]


class DeliveryError(RuntimeError):
    """The broker refused a message for a reason that waiting does not fix."""


def producer_config(bootstrap: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
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
    }
    config.update(extra or {})
    return config


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
        self._producer.flush()
        if self._errors:
            errors, self._errors = self._errors, []
            raise DeliveryError(f"{len(errors)} message(s) to {self._topic} failed: {errors[0]}")

    def close(self) -> None:
        self._producer.flush()


class TopicSink(DynamicSink[KeyValue]):
    """Write (key, value) pairs to one Kafka topic, waiting for every acknowledgement."""

    def __init__(self, bootstrap: str, topic: str, extra: dict[str, Any] | None = None) -> None:
        self._config = producer_config(bootstrap, extra)
        self._topic = topic

    def build(self, step_id: str, worker_index: int, worker_count: int) -> TopicWriter:
        return TopicWriter(Producer(self._config), self._topic)
