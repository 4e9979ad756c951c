"""Kafka output: enriched positions and dead letters, each a (key, value) pair of bytes.

Unlike a fire-and-forget producer, a batch counts as written only once the broker has
acknowledged every message, so recovery's at-least-once promise holds for these topics too.
While the broker is away, the writer waits (message.timeout.ms = 0: no expiry) and the dataflow
stalls instead of losing messages. It waits in short flushes, so that the main thread gets back
to Python often enough for a stop signal to be handled (`iss_enricher.stopping`).

A message refused for something of its own (too large for the topic, a record the broker
calls invalid) cannot stall a batch: it is sent again on its own, so that a batch the broker
refused as a whole loses none of the messages that fit, and the writer returns what is still
refused for the caller to dead-letter. Any other refusal raises `DeliveryError`.
"""

from __future__ import annotations

import logging
from operator import itemgetter
from typing import Any

from bytewax.outputs import DynamicSink, StatelessSinkPartition
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from iss_contract.limits import MAX_MESSAGE_BYTES
from iss_enricher import kafka_clients

logger = logging.getLogger(__name__)

KeyValue = tuple[bytes | None, bytes]


class DeliveryError(RuntimeError):
    """The broker refused a message for a reason that waiting does not fix."""


RECORD_ERRORS = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,
        KafkaError.INVALID_MSG,
        KafkaError.INVALID_MSG_SIZE,
        KafkaError.INVALID_RECORD,
        KafkaError.RECORD_LIST_TOO_LARGE,
    }
)
"""Refusals caused by the message (or by the batch it was sent in), not by the broker or topic."""

Refusal = tuple[int, KafkaError]
"""The index of a message in the list handed to `write_messages`, and why it was refused."""


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
        self._errors: list[tuple[KafkaError, bytes | None]] = []

    def _delivered(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self._errors.append((err, msg.value()))

    def write_batch(self, items: list[KeyValue]) -> None:
        self.drop(items, self.write_messages(items))

    def drop(self, items: list[KeyValue], refusals: list[Refusal]) -> None:
        """Log the messages the broker refused, which are given up (a dead letter's original
        is still on its own topic)."""
        for index, error in refusals:
            logger.error(
                "a message of %d bytes to %s was refused (%s) and is dropped",
                len(items[index][1]),
                self._topic,
                error.name(),
            )

    def write_messages(self, items: list[KeyValue]) -> list[Refusal]:
        """Send the messages; return once the broker has acknowledged every one of them, or
        refused it for a reason of its own (`RECORD_ERRORS`): those are returned, in order."""
        if not items:
            return []
        refused = self._send(items)
        if not refused:
            return []
        # A refused batch may hold messages that fit: each is tried again on its own.
        return [(index, error) for index, _ in refused for _, error in self._send([items[index]])]

    def _send(self, items: list[KeyValue]) -> list[Refusal]:
        pending: list[dict[str, Any]] = [{"key": key, "value": value} for key, value in items]
        positions: range | list[int] = range(len(pending))
        refusals: list[Refusal] = []
        while pending:
            # One call queues the whole list; what does not fit is marked "Queue full" (always
            # a tail: the queue fills in order) and retried once the queue drained a little.
            queued = self._producer.produce_batch(self._topic, pending, on_delivery=self._delivered)
            if queued == len(pending):
                break
            retry: list[dict[str, Any]] = []
            retry_positions: list[int] = []
            for message, index in zip(pending, positions, strict=True):
                error: KafkaError | None = message.pop("_error", None)
                if error is None:
                    continue
                if error.code() == KafkaError._QUEUE_FULL:
                    retry.append(message)
                    retry_positions.append(index)
                elif error.code() in RECORD_ERRORS:
                    refusals.append((index, error))
                else:
                    raise KafkaException(error)
            if retry:
                self._producer.poll(0.05)
            pending, positions = retry, retry_positions
        flush_all(self._producer)
        kafka_clients.log_gate()[1].reachable()
        if self._errors:
            refusals.extend(self._delivery_refusals(items))
        return sorted(refusals, key=itemgetter(0))

    def _delivery_refusals(self, items: list[KeyValue]) -> list[Refusal]:
        errors, self._errors = self._errors, []
        other = [error for error, _ in errors if error.code() not in RECORD_ERRORS]
        if other:
            raise DeliveryError(f"{len(errors)} message(s) to {self._topic} failed: {other[0]}")
        # Only on this rare path: find each refused message's index by its value.
        where: dict[bytes, list[int]] = {}
        for index in range(len(items) - 1, -1, -1):
            where.setdefault(items[index][1], []).append(index)
        refusals: list[Refusal] = []
        for error, value in errors:
            found = where.get(value or b"")
            if found:
                refusals.append((found.pop(), error))
        return refusals

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
