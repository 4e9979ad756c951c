"""A refused login or a topic the ACLs do not grant, in words, and how often to say so.

To a librdkafka client, a wrong password looks much like a broker that is away: the metadata
request fails with "Broker transport failure" and the reason ("SASL authentication error:
Authentication failed ...") only reaches the error callback. A topic the ACLs hide comes back
from a metadata request with TOPIC_AUTHORIZATION_FAILED, which is easily mistaken for a topic
that is not there yet. The clients of the project keep running and retrying in both cases (the
password or the ACLs may be fixed while they run) and say why, naming the user or the topic,
when the problem starts and then once a minute (`Reminder`), not at every attempt.

Pure: the callers hand in what librdkafka reported and log what comes back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from confluent_kafka import KafkaError

REMIND_EVERY_S = 60.0


@dataclass(frozen=True)
class Problem:
    """Why a client cannot do its work yet. `key` tells one problem from another (the
    `message` may carry details that change at every attempt)."""

    key: str
    message: str
    level: int = logging.ERROR


def _who(username: str | None) -> str:
    return f"user {username}" if username else "this client"


def login_problem(errors: Iterable[KafkaError], username: str | None) -> Problem | None:
    """The refused login (or failed TLS handshake) among the error callback's errors, if any."""
    for error in errors:
        if error.code() == KafkaError._AUTHENTICATION:
            return Problem(
                "login",
                f"Kafka refused the login of {_who(username)}: {error.str()};"
                " check its username and password",
            )
        if error.code() == KafkaError._SSL:
            return Problem(
                "tls",
                f"TLS with Kafka failed: {error.str()}; check the CA certificate",
            )
    return None


def topic_problem(
    topic: str, error: KafkaError | None, username: str | None, operation: str = "read"
) -> Problem | None:
    """The topic's metadata or fetch error, when it says the ACLs do not grant the topic."""
    if error is None or error.code() != KafkaError.TOPIC_AUTHORIZATION_FAILED:
        return None
    grants = "DESCRIBE" if operation == "describe" else f"{operation.upper()} and DESCRIBE"
    return Problem(
        f"topic:{topic}",
        f"{_who(username)} is not authorized to {operation} topic {topic}"
        f" (TOPIC_AUTHORIZATION_FAILED): its ACLs must allow {grants} on it",
    )


class Reminder:
    """Says a lasting problem when it starts or changes, then at most once per `every_s`."""

    def __init__(
        self, every_s: float = REMIND_EVERY_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._every_s = every_s
        self._clock = clock
        self._key: str | None = None
        self._said_at = 0.0

    def due(self, problem: Problem | None) -> bool:
        """Whether to log `problem` now; None means there is no problem (any more)."""
        if problem is None:
            self._key = None
            return False
        now = self._clock()
        if problem.key == self._key and now - self._said_at < self._every_s:
            return False
        self._key, self._said_at = problem.key, now
        return True
