"""The positions output: every batch stored in PostgreSQL and published to the enriched topic.

Bytewax commits an epoch to the recovery store only after the sinks have written its batches,
so `write_batch` returns only once the batch is committed in the database and acknowledged by
the broker. The two run side by side rather than one after the other: a helper thread writes
the batch to the database (mostly waiting for the server to insert the rows and flush its
log), while the worker thread encodes the enriched messages, hands them to the producer and
waits for the broker. The batch takes about as long as the slower of the two instead of their
sum.
"""

from __future__ import annotations

import threading
from typing import Any

from bytewax.outputs import DynamicSink, StatelessSinkPartition
from confluent_kafka import Producer

from iss_contract.enriched import EnrichedPosition
from iss_enricher.publish import KeyValue, TopicWriter, producer_config
from iss_enricher.storage.sink import Backoff, PositionsWriter


def encode_enriched(positions: list[EnrichedPosition]) -> list[KeyValue]:
    """The enriched topic's (key, value) pairs of a list of positions."""
    return [(position.raw.key, position.to_bytes()) for position in positions]


class PositionsOutPartition(StatelessSinkPartition[list[EnrichedPosition]]):
    """One worker's positions output: its database writer and its producer."""

    def __init__(self, store: PositionsWriter, publish: TopicWriter) -> None:
        self._store = store
        self._publish = publish

    def write_batch(self, items: list[list[EnrichedPosition]]) -> None:
        # All the lists Bytewax hands over at once go into one transaction and one flush.
        positions = [position for batch in items for position in batch]
        if not positions:
            return
        failure: list[BaseException] = []

        def store() -> None:
            try:
                self._store.write_positions(positions)
            except BaseException as exc:  # handed to the worker thread below
                failure.append(exc)

        # A daemon thread per batch (a batch takes tens of milliseconds; starting a thread,
        # tens of microseconds): if a second stop signal abandons a write that is waiting for
        # a database that is down, the process can still exit.
        helper = threading.Thread(target=store, name="positions-store", daemon=True)
        helper.start()
        try:
            self._publish.write_messages(encode_enriched(positions))
        finally:
            # Even when publishing failed, the database write is not left running on its own.
            helper.join()
        if failure:
            raise failure[0]

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
    ) -> None:
        self._dsn = dsn
        self._backoff = backoff
        self._producer_config = producer_config(bootstrap, producer_extra)
        self._topic = topic

    def build(self, step_id: str, worker_index: int, worker_count: int) -> PositionsOutPartition:
        return PositionsOutPartition(
            PositionsWriter.connect(self._dsn, self._backoff),
            TopicWriter(Producer(self._producer_config), self._topic),
        )
