"""The Kafka source that hands the dataflow librdkafka's messages (needs the local Kafka)."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import Producer

from iss_enricher.source import MessagesKafkaSource

pytestmark = pytest.mark.services


def fill(bootstrap: str, topic: str, count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(count):
        producer.produce(topic, key=b"25544", value=f"record {i}".encode(), partition=0)
    assert producer.flush(30) == 0


def read_all(part: Any) -> list[Any]:
    messages: list[Any] = []
    while True:
        try:
            messages += part.next_batch()
        except StopIteration:
            return messages


def test_every_message_arrives_in_order_and_the_snapshot_is_the_next_offset(
    kafka: Any, make_topic: Any
) -> None:
    topic = make_topic(1)
    fill(kafka.bootstrap, topic, 25)
    source = MessagesKafkaSource([kafka.bootstrap], [topic], tail=False, batch_size=10)
    assert source.list_parts() == [f"0-{topic}"]
    part = source.build_part("raw-in", f"0-{topic}", None)
    try:
        messages = read_all(part)
        assert [m.value() for m in messages] == [f"record {i}".encode() for i in range(25)]
        assert [m.offset() for m in messages] == list(range(25))
        assert {(m.topic(), m.partition(), m.key()) for m in messages} == {(topic, 0, b"25544")}
        assert part.snapshot() == 25
    finally:
        part.close()


def test_a_resumed_partition_starts_at_its_snapshotted_offset(kafka: Any, make_topic: Any) -> None:
    topic = make_topic(1)
    fill(kafka.bootstrap, topic, 12)
    source = MessagesKafkaSource([kafka.bootstrap], [topic], tail=False)
    part = source.build_part("raw-in", f"0-{topic}", 7)
    try:
        assert [m.offset() for m in read_all(part)] == [7, 8, 9, 10, 11]
        assert part.snapshot() == 12
    finally:
        part.close()
