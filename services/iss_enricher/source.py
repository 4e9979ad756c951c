"""Bytewax's Kafka source, handing the dataflow librdkafka's messages as they come.

Bytewax's own partition wraps every message in a `KafkaSourceMessage` dataclass (eight fields,
eight method calls) before the dataflow sees it; at tens of thousands of records a second that
wrapper is a noticeable share of the work. This source keeps everything else of Bytewax's
partition (partition assignment, the offset it snapshots and resumes from, end-of-partition
handling, the lag gauge) and only replaces the loop that turns a poll into a batch: it emits the
`confluent_kafka.Message` objects themselves. Consumer errors other than the end of a partition
are logged and skipped, as with `raise_on_errors=False`. Once a stop is requested
(`iss_enricher.stopping`), every partition reports its end, so the dataflow drains and stops.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bytewax.connectors.kafka import KafkaSource, _KafkaSourcePartition
from bytewax.inputs import StatefulSourcePartition
from confluent_kafka import KafkaError, Message

from iss_enricher.stopping import StopRequest

logger = logging.getLogger(__name__)


class _MessagesPartition(StatefulSourcePartition[Message, int | None]):
    def __init__(self, inner: _KafkaSourcePartition, stop: StopRequest | None) -> None:
        self._inner = inner
        self._stop = stop

    def next_batch(self) -> list[Message]:
        inner = self._inner
        if inner._eof or (self._stop is not None and self._stop.is_set()):
            raise StopIteration()
        messages = inner._consumer.consume(inner._batch_size, 0.001)
        batch = [message for message in messages if message.error() is None]
        if len(batch) == len(messages):  # the usual case: no errors, offsets ascending
            last_offset = batch[-1].offset() if batch else None
            if last_offset is not None:
                inner._offset = last_offset + 1  # resume after the last message read
            return batch
        return self._sift(messages)

    def _sift(self, messages: list[Message]) -> list[Message]:
        """Messages mixed with errors: keep the messages, log the errors, note an EOF."""
        inner = self._inner
        batch: list[Message] = []
        last_offset: int | None = None
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    inner._eof = True  # emit this batch, stop at the next call
                    break
                logger.warning("Kafka consumer error: %s", error)
            else:
                batch.append(message)
            offset = message.offset()
            if offset is not None and offset >= 0:
                last_offset = offset
        if last_offset is not None:
            inner._offset = last_offset + 1  # resume after the last message read
        return batch

    def next_awake(self) -> datetime | None:
        return self._inner.next_awake()

    def snapshot(self) -> int | None:
        return self._inner.snapshot()

    def close(self) -> None:
        self._inner.close()


class MessagesKafkaSource(KafkaSource):
    """`KafkaSource` whose items are `confluent_kafka.Message`s (errors logged, not emitted).

    Takes KafkaSource's arguments, plus `stop`: when that request is set, the stream ends.
    """

    def __init__(self, *args: Any, stop: StopRequest | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stop = stop

    def build_part(  # type: ignore[override]  # items are Messages, not KafkaSourceMessages
        self, step_id: str, for_part: str, resume_state: int | None
    ) -> _MessagesPartition:
        inner = super().build_part(step_id, for_part, resume_state)
        return _MessagesPartition(inner, self._stop)
