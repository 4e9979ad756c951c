"""A refused Kafka login and a topic the ACLs do not grant, in words, said once a minute."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError

from iss_runtime.kafka_access import Problem, Reminder, login_problem, topic_problem

pytestmark = pytest.mark.unit

REFUSED = KafkaError(
    KafkaError._AUTHENTICATION,
    "SASL authentication error: Authentication failed during authentication due to invalid"
    " credentials with SASL mechanism SCRAM-SHA-512",
)


def test_a_refused_login_names_the_user_and_keeps_librdkafkas_reason() -> None:
    problem = login_problem(
        [KafkaError(KafkaError._ALL_BROKERS_DOWN, "1/1 brokers are down"), REFUSED], "enricher"
    )

    assert problem is not None
    assert "Kafka refused the login of user enricher" in problem.message
    assert "Authentication failed" in problem.message


def test_a_failed_tls_handshake_points_at_the_ca_certificate() -> None:
    problem = login_problem([KafkaError(KafkaError._SSL, "certificate verify failed")], None)

    assert problem is not None
    assert "certificate verify failed" in problem.message
    assert "CA certificate" in problem.message


def test_an_unreachable_broker_is_no_login_problem() -> None:
    errors = [
        KafkaError(KafkaError._TRANSPORT, "Connection refused"),
        KafkaError(KafkaError._ALL_BROKERS_DOWN, "1/1 brokers are down"),
    ]

    assert login_problem(errors, "enricher") is None


def test_a_topic_the_acls_do_not_grant_is_named_with_what_to_allow() -> None:
    error = KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED, "Broker: Topic authorization failed")

    read = topic_problem("iss.positions.raw", error, "enricher")
    describe = topic_problem("iss.positions.raw", error, "status", "describe")

    assert read is not None
    assert describe is not None
    assert read.message.startswith(
        "user enricher is not authorized to read topic iss.positions.raw"
    )
    assert "TOPIC_AUTHORIZATION_FAILED" in read.message
    assert "READ and DESCRIBE" in read.message
    assert "not authorized to describe topic" in describe.message
    assert "READ" not in describe.message


@pytest.mark.parametrize(
    "error",
    [None, KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, "Broker: Unknown topic or partition")],
)
def test_a_missing_topic_or_no_error_is_no_authorization_problem(error: KafkaError | None) -> None:
    assert topic_problem("iss.positions.raw", error, "enricher") is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_lasting_problem_is_said_when_it_starts_and_then_once_per_interval() -> None:
    clock = Clock()
    reminder = Reminder(every_s=60.0, clock=clock)
    said = []
    for second in range(0, 150):
        clock.now = 1000.0 + second
        # librdkafka's details change at every attempt; the key does not.
        said.append(reminder.due(Problem("login", f"refused (after {second} ms)")))

    assert [second for second, due in enumerate(said) if due] == [0, 60, 120]


def test_another_problem_is_said_at_once_and_one_that_returns_after_it_ended_too() -> None:
    clock = Clock()
    reminder = Reminder(every_s=60.0, clock=clock)
    login, topic = Problem("login", "refused"), Problem("topic:raw", "not authorized")

    assert reminder.due(login)
    assert not reminder.due(login)
    assert reminder.due(topic)
    assert not reminder.due(None)
    assert reminder.due(topic)
