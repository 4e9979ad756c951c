"""The gateway against the real local Kafka: every message reaches every client and replica."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from confluent_kafka.admin import AdminClient, NewPartitions  # type: ignore[attr-defined]

from iss_liveview.kafka_feed import start_offsets
from tests.support.liveview import gateway, history_sequences, next_position, produce
from tests.support.messages import enriched_value

pytestmark = pytest.mark.services


def test_a_message_produced_to_kafka_reaches_a_websocket_client(
    kafka: Any, make_topic: Any
) -> None:
    topic = make_topic()

    async def scenario() -> dict[str, Any]:
        async with (
            gateway(kafka.bootstrap, topic) as base,
            aiohttp.ClientSession() as http,
            http.ws_connect(base + "/ws") as ws,
        ):
            assert await history_sequences(ws) == []
            await asyncio.to_thread(produce, kafka.bootstrap, topic, [enriched_value(1)])
            return await next_position(ws)

    position = asyncio.run(scenario())
    assert position["sequence"] == 1
    assert position["schema"] == "iss.position.enriched/v1"
    assert position["norad_id"] == 25544


def test_two_clients_receive_the_same_messages(kafka: Any, make_topic: Any) -> None:
    topic = make_topic()

    async def scenario() -> tuple[list[int], list[int]]:
        async with (
            gateway(kafka.bootstrap, topic) as base,
            aiohttp.ClientSession() as http,
            http.ws_connect(base + "/ws") as one,
            http.ws_connect(base + "/ws") as two,
        ):
            await history_sequences(one)
            await history_sequences(two)
            values = [enriched_value(n) for n in range(5)]
            await asyncio.to_thread(produce, kafka.bootstrap, topic, values)
            first = [(await next_position(one))["sequence"] for _ in range(5)]
            second = [(await next_position(two))["sequence"] for _ in range(5)]
            return first, second

    first, second = asyncio.run(scenario())
    assert first == second == [0, 1, 2, 3, 4]


def test_positions_published_again_after_an_enricher_restart_reach_a_browser_once(
    kafka: Any, make_topic: Any
) -> None:
    topic = make_topic()

    async def scenario() -> list[int]:
        async with (
            gateway(kafka.bootstrap, topic) as base,
            aiohttp.ClientSession() as http,
            http.ws_connect(base + "/ws") as ws,
        ):
            await history_sequences(ws)
            one, two, three = (enriched_value(n) for n in (1, 2, 3))
            # What the topic holds after a restart: the tail since the snapshot, once more.
            await asyncio.to_thread(produce, kafka.bootstrap, topic, [one, two, one, two, three])
            seen = [(await next_position(ws))["sequence"] for _ in range(3)]
            with pytest.raises(asyncio.TimeoutError):
                await next_position(ws, timeout=1.0)
            return seen

    assert asyncio.run(scenario()) == [1, 2, 3]


def test_two_gateway_replicas_each_receive_every_message(kafka: Any, make_topic: Any) -> None:
    topic = make_topic(partitions=3)

    async def scenario() -> tuple[set[int], set[int]]:
        async with (
            gateway(kafka.bootstrap, topic) as base_a,
            gateway(kafka.bootstrap, topic) as base_b,
            aiohttp.ClientSession() as http,
            http.ws_connect(base_a + "/ws") as ws_a,
            http.ws_connect(base_b + "/ws") as ws_b,
        ):
            await history_sequences(ws_a)
            await history_sequences(ws_b)
            values = [enriched_value(n) for n in range(12)]
            await asyncio.to_thread(produce, kafka.bootstrap, topic, values)
            got_a = {(await next_position(ws_a))["sequence"] for _ in range(12)}
            got_b = {(await next_position(ws_b))["sequence"] for _ in range(12)}
            return got_a, got_b

    got_a, got_b = asyncio.run(scenario())
    assert got_a == got_b == set(range(12))


def test_a_gateway_started_later_replays_recent_history_on_connect(
    kafka: Any, make_topic: Any
) -> None:
    topic = make_topic()
    produce(kafka.bootstrap, topic, [enriched_value(n) for n in range(8)])

    async def scenario() -> list[int]:
        async with (
            gateway(kafka.bootstrap, topic, history_size=5) as base,
            aiohttp.ClientSession() as http,
        ):
            for _ in range(100):  # the replay is read in the background after assignment
                async with http.ws_connect(base + "/ws") as ws:
                    sequences = await history_sequences(ws)
                if len(sequences) == 5:
                    return sequences
                await asyncio.sleep(0.1)
            return sequences

    assert asyncio.run(scenario()) == [3, 4, 5, 6, 7]


def test_replay_starts_at_most_backlog_records_before_the_end() -> None:
    assert start_offsets({0: (0, 100), 1: (95, 100), 2: (0, 0)}, backlog=10) == {
        0: 90,
        1: 95,
        2: 0,
    }


def test_the_gateway_keeps_following_the_topic_after_kafka_restarts(
    kafka: Any, make_topic: Any
) -> None:
    topic = make_topic()

    async def scenario() -> tuple[int, int]:
        async with (
            gateway(kafka.bootstrap, topic) as base,
            aiohttp.ClientSession() as http,
            http.ws_connect(base + "/ws", heartbeat=None) as ws,
        ):
            await history_sequences(ws)
            await asyncio.to_thread(produce, kafka.bootstrap, topic, [enriched_value(1)])
            before = (await next_position(ws))["sequence"]
            await asyncio.to_thread(kafka.stop)
            await asyncio.to_thread(kafka.start)
            await asyncio.to_thread(produce, kafka.bootstrap, topic, [enriched_value(2)])
            after = (await next_position(ws, timeout=60))["sequence"]
            return before, after

    assert asyncio.run(scenario()) == (1, 2)


def add_partitions(bootstrap: str, topic: str, total: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_partitions([NewPartitions(topic, total)]).values():
        future.result(30)


def test_partitions_added_to_the_topic_are_followed_too(kafka: Any, make_topic: Any) -> None:
    topic = make_topic(partitions=1)

    async def scenario() -> int:
        async with (
            gateway(kafka.bootstrap, topic, partition_refresh_s=0.3) as base,
            aiohttp.ClientSession() as http,
            http.ws_connect(base + "/ws") as ws,
        ):
            await history_sequences(ws)
            await asyncio.to_thread(add_partitions, kafka.bootstrap, topic, 2)
            # New partitions are read from their start, so producing before the gateway's
            # next refresh loses nothing.
            await asyncio.to_thread(
                produce, kafka.bootstrap, topic, [enriched_value(5)], partition=1
            )
            sequence: int = (await next_position(ws))["sequence"]
            return sequence

    assert asyncio.run(scenario()) == 5
