"""The positions output against a real PostgreSQL and a real Kafka broker."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable

import psycopg
import pytest
from confluent_kafka import KafkaException
from msgspec.structs import replace

from iss_devstack.kafka import Kafka
from iss_enricher.positions_out import PositionsOutput
from iss_enricher.storage.schema import migrate
from iss_enricher.storage.sink import Backoff
from tests.support.messages import enriched
from tests.support.tables import count
from tests.support.topics import read_topic

pytestmark = pytest.mark.services

FAST = Backoff(initial_seconds=0.1, max_seconds=0.5)


def test_a_batch_is_stored_and_published_before_write_batch_returns(
    pg_dsn: str, kafka: Kafka, make_topic: Callable[..., str]
) -> None:
    migrate(pg_dsn)
    topic = make_topic()
    output = PositionsOutput(pg_dsn, FAST, kafka.bootstrap, topic).build("positions-out", 0, 1)
    output.write_batch([[enriched(s) for s in range(10)], [enriched(s) for s in range(10, 25)]])
    # No waiting: the rows are committed and the messages acknowledged once the call returns.
    assert count(pg_dsn) == 25
    messages = read_topic(kafka.bootstrap, topic)
    output.close()
    assert [json.loads(m.value())["sequence"] for m in messages] == list(range(25))
    assert {m.key() for m in messages} == {b"25544"}
    assert json.loads(messages[3].value()) == enriched(3).to_dict()


def test_a_publishing_failure_surfaces_only_after_the_batch_is_committed(
    pg_dsn: str, kafka: Kafka, make_topic: Callable[..., str]
) -> None:
    migrate(pg_dsn)
    small = {"message.max.bytes": 1000}
    output = PositionsOutput(pg_dsn, FAST, kafka.bootstrap, make_topic(), small)
    writer = output.build("positions-out", 0, 1)
    batch = [enriched(s) for s in range(5)]
    batch[2] = replace(batch[2], raw=replace(batch[2].raw, name="X" * 2000))  # too large to send
    with pytest.raises(KafkaException, match="MSG_SIZE_TOO_LARGE"):
        writer.write_batch([batch])
    assert count(pg_dsn) == 5
    writer.close()


def test_a_message_the_broker_refuses_is_dead_lettered_and_the_rest_of_its_batch_published(
    pg_dsn: str, kafka: Kafka, make_topic: Callable[..., str]
) -> None:
    # A topic whose limit is below the enricher's: the broker, not the client, refuses the batch
    # holding the large message, and every message that fits must still be published.
    migrate(pg_dsn)
    topic, letters = make_topic(config={"max.message.bytes": "4096"}), make_topic()
    output = PositionsOutput(
        pg_dsn, FAST, kafka.bootstrap, topic, deadletter_topic=letters, raw_topic="raw"
    )
    writer = output.build("positions-out", 0, 1)
    batch = [enriched(s) for s in range(20)]
    incompressible = base64.b64encode(random.Random(7).randbytes(9_000)).decode()
    batch[7] = replace(batch[7], raw=replace(batch[7].raw, name=incompressible))
    writer.write_batch([batch])
    writer.close()
    assert count(pg_dsn) == 20  # every row is stored
    published = [json.loads(m.value())["sequence"] for m in read_topic(kafka.bootstrap, topic)]
    assert published == [s for s in range(20) if s != 7]
    (letter,) = [json.loads(m.value()) for m in read_topic(kafka.bootstrap, letters)]
    assert letter["reason"] == "enriched_too_large"
    assert "broker refused" in letter["detail"]
    assert "the row is stored" in letter["detail"]


def test_an_empty_batch_touches_neither_the_database_nor_the_broker(
    pg_dsn: str, kafka: Kafka, make_topic: Callable[..., str]
) -> None:
    migrate(pg_dsn)
    topic = make_topic()
    output = PositionsOutput(pg_dsn, FAST, kafka.bootstrap, topic).build("positions-out", 0, 1)
    output.write_batch([[], []])
    output.close()
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM positions").fetchone() == (0,)
    assert read_topic(kafka.bootstrap, topic) == []


def test_an_enriched_message_over_the_limit_is_dead_lettered_and_its_row_still_stored(
    pg_dsn: str, kafka: Kafka, make_topic: Callable[..., str]
) -> None:
    migrate(pg_dsn)
    topic, letters = make_topic(), make_topic()
    output = PositionsOutput(
        pg_dsn,
        FAST,
        kafka.bootstrap,
        topic,
        deadletter_topic=letters,
        raw_topic="raw",
        max_message_bytes=131_072,
    )
    writer = output.build("positions-out", 0, 1)
    batch = [enriched(s) for s in range(5)]
    batch[2] = replace(batch[2], raw=replace(batch[2].raw, name="X" * 140_000))
    writer.write_batch([batch])
    writer.close()
    assert count(pg_dsn) == 5  # the row is stored
    published = [json.loads(m.value())["sequence"] for m in read_topic(kafka.bootstrap, topic)]
    assert published == [0, 1, 3, 4]
    (letter,) = [json.loads(m.value()) for m in read_topic(kafka.bootstrap, letters)]
    assert letter["reason"] == "enriched_too_large"
    assert letter["topic"] == "raw"
    assert letter["value_truncated"] is True
    assert letter["value_bytes"] > 140_000
    assert "the row is stored" in letter["detail"]
