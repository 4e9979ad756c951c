"""The one Kafka consumer of a gateway: a thread that hands every position to the event loop.

Partitions are assigned by hand and offsets are never committed, so any number of gateway
replicas each read every message (no consumer group to share, nothing to starve). On start it
reads back up to `history_size` records per partition to fill the history, then follows the
end of the topic.

Until it can assign the topic it retries every second and says why, when that starts and then
once a minute (`iss_runtime.kafka_access`): the topic is not there yet, Kafka is not reachable,
Kafka refused the login (a wrong password), or the ACLs do not grant the topic. librdkafka's own
lines go through the log gate (`iss_runtime.kafka_logs`): one line per outage, the rest
rate-limited.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from iss_runtime.kafka_access import Problem, Reminder, login_problem, topic_problem
from iss_runtime.kafka_logs import CLIENT_PROPERTIES, KafkaLogGate, kafka_logger

log = logging.getLogger(__name__)

Deliver = Callable[[bytes | None, int | None], None]


def start_offsets(watermarks: dict[int, tuple[int, int]], backlog: int) -> dict[int, int]:
    """Per partition, the offset to start from so that at most `backlog` old records are read."""
    return {p: max(low, high - backlog) for p, (low, high) in watermarks.items()}


def replica_client_id(prefix: str) -> str:
    """A client id unique to this process, for broker logs and quotas."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class KafkaFeed:
    """Run `Consumer.poll` on its own thread; deliver values on the asyncio loop."""

    bootstrap_servers: str
    topic: str
    backlog: int
    deliver: Deliver
    loop: asyncio.AbstractEventLoop
    client_prefix: str = "iss-liveview"
    poll_timeout_s: float = 0.1
    refresh_s: float = 30.0
    """How often the topic's partition count is checked (new partitions are followed too)."""
    on_assigned: Callable[[bool], None] = lambda assigned: None
    extra_config: dict[str, str] = field(default_factory=dict)
    """More client properties (SASL/TLS, iss_runtime.kafka_auth)."""
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _partitions: set[int] = field(default_factory=set)
    _client_errors: list[KafkaError] = field(default_factory=list)
    _gate: KafkaLogGate | None = None
    assigned: bool = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kafka-feed", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def _username(self) -> str | None:
        return self.extra_config.get("sasl.username")

    def _consumer(self) -> Consumer:
        client_id = replica_client_id(self.client_prefix)
        logger, self._gate = kafka_logger(f"{__name__}.librdkafka")
        return Consumer(
            {
                "bootstrap.servers": self.bootstrap_servers,
                # Required by the client even for manual assignment; never used to commit.
                "group.id": client_id,
                "client.id": client_id,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "latest",
                "fetch.wait.max.ms": 50,
                "socket.keepalive.enable": True,
                "reconnect.backoff.max.ms": 2000,
                "logger": logger,
                # A refused login reaches only the error callback (served by `poll`).
                "error_cb": self._client_errors.append,
                **CLIENT_PROPERTIES,
                **self.extra_config,
            }
        )

    def _reachable(self) -> None:
        if self._gate is not None:
            self._gate.reachable()

    def _assign(self, consumer: Consumer) -> Problem | None:
        """Assign every partition of the topic; else why not (not there yet, not authorized)."""
        metadata = consumer.list_topics(self.topic, timeout=2)
        self._reachable()
        topic = metadata.topics.get(self.topic)
        denied = None if topic is None else topic_problem(self.topic, topic.error, self._username)
        if denied is not None:
            return denied
        if topic is None or topic.error is not None or not topic.partitions:
            return Problem(
                f"missing:{self.topic}", f"topic {self.topic} not there yet", logging.INFO
            )
        watermarks = {
            p: consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=5)
            for p in topic.partitions
        }
        offsets = start_offsets(watermarks, self.backlog) if self.backlog else {}
        self._partitions = set(topic.partitions)
        consumer.assign(
            [TopicPartition(self.topic, p, offsets.get(p, OFFSET_END)) for p in topic.partitions]
        )
        log.info(
            "following %s: %d partition(s), replaying up to %d record(s) each",
            self.topic,
            len(topic.partitions),
            self.backlog,
        )
        return None

    def _follow_new_partitions(self, consumer: Consumer) -> None:
        """Partitions added to the topic since the assignment are read from their start."""
        try:
            topic = consumer.list_topics(self.topic, timeout=2).topics.get(self.topic)
        except KafkaException as exc:
            log.debug("partition refresh failed: %s", exc)
            return
        self._reachable()
        if topic is None or topic.error is not None:
            return
        added = sorted(set(topic.partitions) - self._partitions)
        if added:
            consumer.incremental_assign(
                [TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in added]
            )
            self._partitions.update(added)
            log.info("following new partition(s) %s of %s", added, self.topic)

    def _set_assigned(self, assigned: bool) -> None:
        self.assigned = assigned
        self.loop.call_soon_threadsafe(self.on_assigned, assigned)

    def _refused_login(self) -> Problem | None:
        """A refused login among the errors the client reported since the last call."""
        if not self._client_errors:
            return None
        problem = login_problem(self._client_errors, self._username)
        self._client_errors.clear()
        return problem

    def _wait_for_assignment(self, consumer: Consumer, reminder: Reminder) -> None:
        """Until the topic is assigned (or a stop): try every second, say why it cannot be."""
        while not self._stop.is_set():
            try:
                problem = self._assign(consumer)
            except KafkaException as exc:
                problem = Problem(
                    "unreachable", f"Kafka not reachable yet ({exc})", logging.WARNING
                )
            if problem is None:
                self._set_assigned(True)
                return
            consumer.poll(0)  # nothing assigned: serves the error callback and the log lines
            problem = self._refused_login() or problem
            if reminder.due(problem):
                log.log(problem.level, "%s; retrying", problem.message)
            self._stop.wait(1.0)

    def _deliver(self, msg: Message) -> None:
        error = msg.error()
        if error is not None:
            denied = topic_problem(msg.topic() or self.topic, error, self._username)
            if denied is not None:
                log.error("%s", denied.message)
            else:
                log.warning("Kafka error: %s", error)
            return
        self._reachable()
        _, ts = msg.timestamp()
        self.loop.call_soon_threadsafe(self.deliver, msg.value(), ts if ts > 0 else None)

    def _run(self) -> None:
        consumer = self._consumer()
        reminder = Reminder()
        try:
            self._wait_for_assignment(consumer, reminder)
            next_refresh = time.monotonic() + self.refresh_s
            while not self._stop.is_set():
                if time.monotonic() >= next_refresh:
                    self._follow_new_partitions(consumer)
                    next_refresh = time.monotonic() + self.refresh_s
                msg = consumer.poll(self.poll_timeout_s)
                refused = self._refused_login()  # the password changed while it ran
                if refused is not None and reminder.due(refused):
                    log.error("%s; retrying", refused.message)
                if msg is not None:
                    self._deliver(msg)
        except Exception:
            log.exception("Kafka consumer thread failed")
            raise
        finally:
            self.assigned = False
            consumer.close()
            log.info("Kafka consumer closed")
