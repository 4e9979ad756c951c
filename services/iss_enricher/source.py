"""Bytewax's Kafka source, handing the dataflow librdkafka's messages as they come.

Bytewax's own partition wraps every message in a `KafkaSourceMessage` dataclass (eight fields,
eight method calls) before the dataflow sees it; at tens of thousands of records a second that
wrapper is a noticeable share of the work. This source keeps everything else of Bytewax's
partition (partition assignment, the offset it snapshots and resumes from, end-of-partition
handling, the lag gauge) and only replaces the loop that turns a poll into a batch: it emits the
`confluent_kafka.Message` objects themselves. Consumer errors other than the end of a partition
are logged and skipped, as with `raise_on_errors=False`. Once a stop is requested
(`iss_enricher.stopping`), every partition reports its end, so the dataflow drains and stops.

Listing the partitions waits, rather than failing, until the raw topic can be read: while the
broker is away, while it refuses the login (a wrong password) and while the ACLs do not grant
the topic, the last two said with the user or topic they concern, when they start and then once a
minute (`iss_runtime.kafka_access`). The ACLs (or the user's credentials on the broker) can be
fixed while the process waits; a restart would change nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bytewax.connectors.kafka import KafkaSource, _KafkaSourcePartition
from bytewax.inputs import StatefulSourcePartition
from confluent_kafka import KafkaError, KafkaException, Message
from confluent_kafka.admin import AdminClient

from iss_enricher import kafka_clients
from iss_enricher.stopping import StopRequest
from iss_runtime.kafka_access import Problem, Reminder, login_problem, topic_problem

logger = logging.getLogger(__name__)

LIST_TIMEOUT_S = 5.0
"""Longest wait for one metadata answer while listing the partitions."""
LIST_RETRY_S = 1.0
"""Pause between two attempts at listing the partitions."""


class _MessagesPartition(StatefulSourcePartition[Message, int | None]):
    def __init__(
        self, inner: _KafkaSourcePartition, stop: StopRequest | None, username: str | None
    ) -> None:
        self._inner = inner
        self._stop = stop
        self._username = username
        self._gate = kafka_clients.log_gate()[1]

    def next_batch(self) -> list[Message]:
        inner = self._inner
        if inner._eof or (self._stop is not None and self._stop.is_set()):
            raise StopIteration()
        messages = inner._consumer.consume(inner._batch_size, 0.001)
        if not messages:
            return []
        self._gate.reachable()
        batch = [message for message in messages if message.error() is None]
        if len(batch) == len(messages):  # the usual case: no errors, offsets ascending
            last_offset = batch[-1].offset()
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
                denied = topic_problem(message.topic() or "?", error, self._username)
                if denied is not None:
                    logger.error("%s", denied.message)
                else:
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

    Takes KafkaSource's arguments, plus `stop`: when that request is set, the stream ends. The
    consumers log through the enricher's Kafka log gate; the admin client that lists the
    partitions gets no consumer properties (`kafka_clients`).
    """

    def __init__(self, *args: Any, stop: StopRequest | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stop = stop
        # Bytewax types the extra properties as strings; librdkafka's `logger` is a Logger.
        logging: Any = kafka_clients.logging_properties()
        self._add_config = {**self._add_config, **logging}

    @property
    def _username(self) -> str | None:
        name = self._add_config.get("sasl.username")
        return name if isinstance(name, str) else None

    def list_parts(self) -> list[str]:
        """The topics' partitions, once the broker answers and grants them (see the module);
        none if a stop is requested first, so the dataflow ends at once."""
        errors: list[KafkaError] = []
        config: dict[str, Any] = {"bootstrap.servers": ",".join(self._brokers)}
        config.update(kafka_clients.common(self._add_config))
        config["error_cb"] = errors.append
        admin = AdminClient(config)
        reminder = Reminder()
        while True:
            try:
                found = _partitions(admin, self._topics, self._username)
            except KafkaException:
                found = None  # no answer: the broker is away or refuses the login
            admin.poll(0)  # serves the error callback, and librdkafka's lines through the gate
            if isinstance(found, list):
                kafka_clients.log_gate()[1].reachable()
                return found
            problem = found or login_problem(errors, self._username)
            errors.clear()
            if problem is not None and reminder.due(problem):
                logger.log(problem.level, "%s (retrying)", problem.message)
            if self._stop is None:
                time.sleep(LIST_RETRY_S)
            elif self._stop.wait(LIST_RETRY_S):
                return []

    def build_part(  # type: ignore[override]  # items are Messages, not KafkaSourceMessages
        self, step_id: str, for_part: str, resume_state: int | None
    ) -> _MessagesPartition:
        inner = super().build_part(step_id, for_part, resume_state)
        return _MessagesPartition(inner, self._stop, self._username)


def _partitions(admin: AdminClient, topics: Iterable[str], user: str | None) -> list[str] | Problem:
    """Bytewax's partition names (`"{index}-{topic}"`) of the topics, or why the ACLs hide one.

    Other topic errors raise, as Bytewax's own listing does; no answer raises KafkaException."""
    parts: list[str] = []
    for topic in topics:
        # One topic at a time, so that a broker that creates topics on first use does.
        found = admin.list_topics(topic, timeout=LIST_TIMEOUT_S).topics[topic]
        denied = topic_problem(topic, found.error, user)
        if denied is not None:
            return denied
        if found.error is not None:
            raise RuntimeError(
                f"error listing partitions for Kafka topic {topic!r}: {found.error.str()}"
            )
        parts += [f"{index}-{topic}" for index in found.partitions]
    return parts
