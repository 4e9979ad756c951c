"""The one Kafka consumer of a gateway: a thread that hands every position to the event loop.

Partitions are assigned by hand and offsets are never committed, so any number of gateway
replicas each read every message (no consumer group to share, nothing to starve). On start it
reads back up to `history_size` records per partition to fill the history, then follows the
end of the topic.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaException, TopicPartition

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
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _partitions: set[int] = field(default_factory=set)
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

    def _consumer(self) -> Consumer:
        client_id = replica_client_id(self.client_prefix)
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
                "logger": logging.getLogger(f"{__name__}.librdkafka"),
            }
        )

    def _assign(self, consumer: Consumer) -> bool:
        """Assign every partition of the topic; False when the topic is not there yet."""
        metadata = consumer.list_topics(self.topic, timeout=2)
        topic = metadata.topics.get(self.topic)
        if topic is None or topic.error is not None or not topic.partitions:
            return False
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
        return True

    def _follow_new_partitions(self, consumer: Consumer) -> None:
        """Partitions added to the topic since the assignment are read from their start."""
        try:
            topic = consumer.list_topics(self.topic, timeout=2).topics.get(self.topic)
        except KafkaException as exc:
            log.debug("partition refresh failed: %s", exc)
            return
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

    def _run(self) -> None:
        consumer = self._consumer()
        try:
            while not self._stop.is_set() and not self.assigned:
                try:
                    if self._assign(consumer):
                        self._set_assigned(True)
                        break
                    log.info("topic %s not there yet; retrying", self.topic)
                except KafkaException as exc:
                    log.warning("Kafka not reachable yet (%s); retrying", exc)
                self._stop.wait(1.0)
            next_refresh = time.monotonic() + self.refresh_s
            while not self._stop.is_set():
                if time.monotonic() >= next_refresh:
                    self._follow_new_partitions(consumer)
                    next_refresh = time.monotonic() + self.refresh_s
                msg = consumer.poll(self.poll_timeout_s)
                if msg is None:
                    continue
                if msg.error() is not None:
                    log.warning("Kafka error: %s", msg.error())
                    continue
                _, ts = msg.timestamp()
                value = msg.value()
                self.loop.call_soon_threadsafe(self.deliver, value, ts if ts > 0 else None)
        except Exception:
            log.exception("Kafka consumer thread failed")
            raise
        finally:
            self.assigned = False
            consumer.close()
            log.info("Kafka consumer closed")
