"""Reading what is on a Kafka topic."""

from __future__ import annotations

from typing import Any

from confluent_kafka import Consumer, TopicPartition


def read_topic(bootstrap: str, topic: str) -> list[Any]:
    """Everything on partition 0 of a topic right now (it was acknowledged, so it is there)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{topic}"})
    consumer.assign([TopicPartition(topic, 0, 0)])
    _, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    found: list[Any] = []
    try:
        while len(found) < high:
            found.extend(m for m in consumer.consume(500, 1.0) if m.error() is None)
    finally:
        consumer.close()
    return found
