"""The Kafka outputs against a real broker."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from iss_devstack.kafka import Kafka
from iss_enricher.publish import TopicSink
from tests.support.topics import read_topic

pytestmark = pytest.mark.services


def test_a_batch_larger_than_the_producer_queue_arrives_whole_and_in_order(
    kafka: Kafka, make_topic: Callable[..., str]
) -> None:
    topic = make_topic()
    small_queue = {"queue.buffering.max.messages": 10}
    writer = TopicSink(kafka.bootstrap, topic, small_queue).build("dead-letters-out", 0, 1)
    writer.write_batch([(b"25544", b"%d" % n) for n in range(250)])
    # write_batch returned: every message is acknowledged, so all of them are readable now.
    values = [int(m.value()) for m in read_topic(kafka.bootstrap, topic)]
    writer.close()
    assert values == list(range(250))
