"""The positions output: every batch stored in PostgreSQL and published to the enriched topic.

Bytewax commits an epoch to the recovery store only after the sinks have written its batches,
so `write_batch` returns only once the batch is committed in the database and acknowledged by
the broker. The two run side by side rather than one after the other: a helper thread writes
the batch to the database (mostly waiting for the server to insert the rows and flush its
log), while the worker thread encodes the enriched messages, hands them to the producer and
waits for the broker. The batch takes about as long as the slower of the two instead of their
sum.

Nothing a position holds can stop this output. An enriched message longer than the topic's
limit is not published: it becomes a dead letter (`enriched_too_large`) while its row is still
stored. A position that cannot be encoded, or whose row the database refuses for a reason other
than being unreachable, is dead-lettered with `internal_error` and the exception's class, and the
rest of the batch is stored and published. An enriched message the broker itself refuses (a
topic whose `max.message.bytes` is below the enricher's limit, a record it calls invalid) is
dead-lettered the same way, `enriched_too_large` or `internal_error`, its row stored.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from operator import itemgetter
from typing import Any

import psycopg
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from confluent_kafka import KafkaError, KafkaException, Producer

from iss_contract.enriched import EnrichedPosition
from iss_contract.limits import MAX_MESSAGE_BYTES, MAX_VALUE_BYTES
from iss_enricher.letters import failure_letter, refused_letter, too_large_letter
from iss_enricher.publish import KeyValue, Refusal, TopicWriter, producer_config
from iss_enricher.storage.sink import Backoff, PositionsWriter

logger = logging.getLogger(__name__)


_value = itemgetter(1)

TOO_LARGE_ERRORS = frozenset({KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.RECORD_LIST_TOO_LARGE})


def encode_enriched(
    positions: list[EnrichedPosition],
    letters: list[KeyValue] | None = None,
    *,
    raw_topic: str = "",
    max_bytes: int = MAX_VALUE_BYTES,
) -> list[KeyValue]:
    """The enriched topic's (key, value) pairs of a list of positions.

    With a `letters` list, a position that cannot be encoded, or whose message is longer than
    `max_bytes`, is left out and its dead letter appended there; without one, it raises.
    """
    try:
        pairs: list[KeyValue] = [(p.raw.key, p.to_bytes()) for p in positions]
    except Exception:
        if letters is None:
            raise
        pairs = []
        for position in positions:
            try:
                pairs.append((position.raw.key, position.to_bytes()))
            except Exception as exc:
                letters.append(failure_letter(position.raw, exc, raw_topic))
    if pairs and max(map(len, map(_value, pairs))) > max_bytes:
        if letters is None:
            raise ValueError(f"an enriched message is over {max_bytes} bytes")
        fitting: list[KeyValue] = []
        for (key, value), position in zip(pairs, positions, strict=False):
            if len(value) <= max_bytes:
                fitting.append((key, value))
            else:
                letters.append(too_large_letter(position, len(value), max_bytes, raw_topic))
        pairs = fitting
    return pairs


class PositionsOutPartition(StatelessSinkPartition[list[EnrichedPosition]]):
    """One worker's positions output: its database writer and its producer."""

    def __init__(
        self,
        store: PositionsWriter,
        publish: TopicWriter,
        dead_letters: TopicWriter | None = None,
        raw_topic: str = "",
        max_bytes: int = MAX_VALUE_BYTES,
    ) -> None:
        self._store = store
        self._publish = publish
        self._dead_letters = dead_letters
        self._raw_topic = raw_topic
        self._max_bytes = max_bytes

    def _store_isolating(
        self,
        items: list[list[EnrichedPosition]],
        positions: list[EnrichedPosition],
        letters: list[KeyValue],
    ) -> None:
        """Store the batch; if the database refuses it (not an outage: those are retried),
        store the positions one by one and dead-letter those it refuses."""
        recount = {window for batch in items for window in getattr(batch, "late_windows", ())}
        try:
            self._store.write_positions(positions, recount)
            return
        except Exception as exc:
            if self._dead_letters is None or isinstance(exc, psycopg.OperationalError):
                raise
            logger.warning(
                "a batch of %d positions failed (%s); storing them one by one",
                len(positions),
                type(exc).__name__,
            )
        for position in positions:
            try:
                self._store.write_positions([position], recount)
            except Exception as exc:
                if isinstance(exc, psycopg.OperationalError):
                    raise
                letters.append(failure_letter(position.raw, exc, self._raw_topic))

    def write_batch(self, items: list[list[EnrichedPosition]]) -> None:
        # All the lists Bytewax hands over at once go into one transaction and one flush.
        positions = [position for batch in items for position in batch]
        if not positions:
            return
        failure: list[BaseException] = []
        stored_letters: list[KeyValue] = []

        def store() -> None:
            try:
                self._store_isolating(items, positions, stored_letters)
            except BaseException as exc:  # handed to the worker thread below
                failure.append(exc)

        # A daemon thread per batch (a batch takes tens of milliseconds; starting a thread,
        # tens of microseconds): if a second stop signal abandons a write that is waiting for
        # a database that is down, the process can still exit.
        helper = threading.Thread(target=store, name="positions-store", daemon=True)
        helper.start()
        letters: list[KeyValue] | None = None if self._dead_letters is None else []
        try:
            messages = encode_enriched(
                positions, letters, raw_topic=self._raw_topic, max_bytes=self._max_bytes
            )
            refusals = self._publish.write_messages(messages)
        finally:
            # Even when publishing failed, the database write is not left running on its own.
            helper.join()
        if failure:
            raise failure[0]
        if refusals:
            if letters is None:
                raise KafkaException(refusals[0][1])
            letters.extend(self._refused_letters(positions, messages, refusals))
        if self._dead_letters is not None and (letters or stored_letters):
            out = [*(letters or []), *stored_letters]
            self._dead_letters.drop(out, self._dead_letters.write_messages(out))

    def _refused_letters(
        self, positions: list[EnrichedPosition], messages: list[KeyValue], refusals: list[Refusal]
    ) -> list[KeyValue]:
        """Dead letters of the positions whose enriched messages the broker refused (their rows
        are stored)."""
        by_value: dict[bytes, EnrichedPosition] = {}
        for position in positions:
            try:
                by_value.setdefault(position.to_bytes(), position)
            except Exception:  # it was dead-lettered when it was encoded
                continue
        letters: list[KeyValue] = []
        for index, error in refusals:
            position = by_value[messages[index][1]]
            too_large = error.code() in TOO_LARGE_ERRORS
            letters.append(refused_letter(position, error.name(), too_large, self._raw_topic))
        return letters

    def close(self) -> None:
        self._store.close()
        self._publish.close()


class PositionsOutput(DynamicSink[list[EnrichedPosition]]):
    """Lists of enriched positions into the `positions` table and onto the enriched topic."""

    def __init__(
        self,
        dsn: str,
        backoff: Backoff,
        bootstrap: str,
        topic: str,
        producer_extra: dict[str, Any] | None = None,
        *,
        deadletter_topic: str | None = None,
        raw_topic: str = "",
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        window: timedelta = timedelta(minutes=1),
    ) -> None:
        self._dsn = dsn
        self._window = window
        self._backoff = backoff
        self._producer_config = producer_config(bootstrap, producer_extra, max_message_bytes)
        self._topic = topic
        self._deadletter_topic = deadletter_topic
        self._raw_topic = raw_topic
        self._max_bytes = max_message_bytes - (MAX_MESSAGE_BYTES - MAX_VALUE_BYTES)

    def build(self, step_id: str, worker_index: int, worker_count: int) -> PositionsOutPartition:
        producer = Producer(self._producer_config)
        letters = None
        if self._deadletter_topic is not None:
            letters = TopicWriter(producer, self._deadletter_topic)
        return PositionsOutPartition(
            PositionsWriter.connect(self._dsn, self._backoff, self._window),
            TopicWriter(producer, self._topic),
            letters,
            self._raw_topic,
            self._max_bytes,
        )
