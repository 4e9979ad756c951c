"""Kafka publishing: idempotent, acks=all, every delivery report checked, backpressure on a
full local queue instead of dropping."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from iss_contract.limits import MAX_MESSAGE_BYTES
from iss_contract.raw import RawPosition
from iss_producer.metrics import Health, ProducerMetrics
from iss_producer.settings import ProducerSettings
from iss_runtime.kafka_access import Problem, Reminder, login_problem, topic_problem
from iss_runtime.kafka_logs import CLIENT_PROPERTIES, kafka_logger

log = logging.getLogger(__name__)


_CONNECTION_ERRORS = frozenset(
    {KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._RESOLVE}
)


def kafka_config(settings: ProducerSettings) -> dict[str, Any]:
    """librdkafka configuration from the settings (the password stays a SecretStr until here)."""
    config: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "client.id": settings.producer_id,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": settings.linger_ms,
        "compression.type": settings.compression,
        "queue.buffering.max.messages": settings.queue_max_messages,
        "delivery.timeout.ms": settings.delivery_timeout_ms,
        # The topics' max.message.bytes (iss_contract.limits).
        "message.max.bytes": MAX_MESSAGE_BYTES,
        **CLIENT_PROPERTIES,
    }
    if settings.kafka_security_protocol:
        config["security.protocol"] = settings.kafka_security_protocol
    if settings.kafka_username:
        config["sasl.mechanisms"] = "SCRAM-SHA-512"
        config["sasl.username"] = settings.kafka_username
        if settings.kafka_password is not None:
            config["sasl.password"] = settings.kafka_password.get_secret_value()
        config.setdefault("security.protocol", "SASL_SSL")
    if settings.kafka_ssl_ca_location is not None:
        config["ssl.ca.location"] = str(settings.kafka_ssl_ca_location)
    return config


class Publisher:
    """Sends positions to one topic and keeps count of what Kafka acknowledged."""

    def __init__(
        self,
        settings: ProducerSettings,
        metrics: ProducerMetrics,
        health: Health,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.topic = settings.topic
        self._metrics = metrics
        self._health = health
        self._clock = clock
        self.sent = 0
        self.acknowledged = 0
        self.failed = 0
        self.backpressure_waits = 0
        self.last_ack_monotonic: float | None = None
        self.fatal: KafkaError | None = None
        self._last_ack_wall = 0.0
        self._reported_acks = 0
        self._username = settings.kafka_username
        # A refused login or a denied topic lasts: said when it starts, then once a minute.
        self._login_reminder = Reminder()
        self._delivery_reminder = Reminder()
        self._failed_unsaid = 0
        self._troubled = False
        config = kafka_config(settings)
        config["error_cb"] = self._on_error
        config["on_delivery"] = self._on_delivery
        # librdkafka's lines through logging, a broker outage as one line at each end.
        config["logger"], self._gate = kafka_logger(
            "iss_producer.kafka", metrics.kafka_outage, renew=True
        )
        self._producer = Producer(config)

    @property
    def outstanding(self) -> int:
        """Messages handed to the client and not yet reported on."""
        return self.sent - self.acknowledged - self.failed

    def publish(self, position: RawPosition) -> None:
        """Queue one message; waits (serving delivery reports) while the local queue is full."""
        self._produce(position.key, position.to_bytes())
        self.poll(0)

    def publish_encoded(self, messages: Iterable[tuple[bytes, bytes]]) -> None:
        """Queue many already encoded (key, value) messages, with the same backpressure."""
        produce = self._producer.produce
        topic = self.topic
        sent = 0
        for key, value in messages:
            try:
                produce(topic, value, key)
            except (BufferError, KafkaException):
                self._produce(key, value)  # counts itself
                continue
            sent += 1
        self.sent += sent
        self.poll(0)

    def _produce(self, key: bytes, value: bytes) -> None:
        while True:
            try:
                self._producer.produce(self.topic, value, key)
            except BufferError:
                # Local queue full: wait for the broker to take some; never drop.
                self.backpressure_waits += 1
                self._producer.poll(0.05)
                continue
            except KafkaException as exc:
                # Refused before it was queued (a topic the ACLs deny, one the client knows
                # is missing): a failed message like an undelivered one, never a crash.
                self.sent += 1
                self._failed(exc.args[0], self.topic)
                return
            self.sent += 1
            return

    def poll(self, timeout_s: float) -> None:
        """Serve delivery reports for up to `timeout_s`."""
        self._producer.poll(timeout_s)
        self._report()

    def flush(self, timeout_s: float) -> int:
        """Wait for every outstanding message; the number still outstanding after `timeout_s`."""
        remaining = int(self._producer.flush(timeout_s))
        self._report()
        return remaining

    def _report(self) -> None:
        # Metrics are brought up to date once per poll rather than once per message: at tens of
        # thousands of acknowledgements per second the per-message cost matters.
        new = self.acknowledged - self._reported_acks
        if new:
            self._reported_acks = self.acknowledged
            self._metrics.produced.inc(new)
            self._metrics.last_publish.set(self._last_ack_wall)
            self._health.acknowledged()

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is None:
            self._gate.reachable()
            self.acknowledged += 1
            self.last_ack_monotonic = time.monotonic()
            self._last_ack_wall = self._clock()
            if self._troubled:  # the problem is over: the next one is said at once
                self._troubled = False
                self._failed_unsaid = 0
                self._delivery_reminder.due(None)
                self._login_reminder.due(None)
            return
        self._failed(err, msg.topic() or self.topic)

    def _failed(self, err: KafkaError, topic: str) -> None:
        self.failed += 1
        self._failed_unsaid += 1
        self._troubled = True
        self._metrics.delivery_failures.inc()
        problem = topic_problem(topic, err, self._username, "write") or Problem(
            f"delivery:{err.code()}", f"delivery to {topic} failed: {err.str()}"
        )
        if self._delivery_reminder.due(problem):
            log.error("%s (%d message(s) not delivered)", problem.message, self._failed_unsaid)
            self._failed_unsaid = 0

    def _on_error(self, err: KafkaError) -> None:
        refused = login_problem([err], self._username)
        if err.fatal():
            self.fatal = err
            log.critical("fatal Kafka client error: %s", err.str())
        elif refused is not None:
            self._troubled = True
            if self._login_reminder.due(refused):
                log.error("%s", refused.message)
        elif err.code() in _CONNECTION_ERRORS:
            # The log gate reports the outage once (and its end); one line per attempt is noise.
            log.debug("Kafka connection error: %s", err.str())
        else:
            log.warning("Kafka client error: %s", err.str())
