import asyncio

import pytest

from iss_liveview.hub import Hub

pytestmark = pytest.mark.unit


def test_history_keeps_the_latest_positions_oldest_first() -> None:
    hub = Hub(history_size=3)
    for n in range(5):
        hub.publish(f"p{n}", f"f{n}")
    assert hub.history() == ["p2", "p3", "p4"]


def test_a_new_subscriber_gets_the_history_and_then_only_new_frames() -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        hub = Hub(history_size=10)
        hub.publish("p0", "f0")
        subscriber, history = hub.subscribe()
        hub.publish("p1", "f1")
        return history, [subscriber.queue.get_nowait() for _ in range(subscriber.queue.qsize())]

    history, queued = asyncio.run(scenario())
    assert history == ["p0"]
    assert queued == ["f1"]


def test_a_slow_subscriber_does_not_block_the_others() -> None:
    async def scenario() -> tuple[list[str], list[str], int, int]:
        drops: list[None] = []
        hub = Hub(history_size=10, queue_size=4, on_drop=lambda: drops.append(None))
        slow, _ = hub.subscribe()
        fast, _ = hub.subscribe()
        received: list[str] = []

        async def read_fast() -> None:
            while len(received) < 100:
                received.append(await fast.queue.get())

        reader = asyncio.create_task(read_fast())
        for n in range(100):
            hub.publish(f"p{n}", f"f{n}")
            await asyncio.sleep(0)
        await asyncio.wait_for(reader, timeout=2)
        kept = [slow.queue.get_nowait() for _ in range(slow.queue.qsize())]
        return received, kept, slow.dropped, len(drops)

    received, kept, slow_dropped, drop_events = asyncio.run(scenario())
    assert received == [f"f{n}" for n in range(100)]
    assert kept == ["f96", "f97", "f98", "f99"]
    assert slow_dropped == 96
    assert drop_events == 96


def test_a_subscriber_that_lost_too_much_is_overwhelmed() -> None:
    async def scenario() -> bool:
        hub = Hub(history_size=1, queue_size=1, max_drops=3)
        subscriber, _ = hub.subscribe()
        for n in range(4):
            hub.publish(f"p{n}", f"f{n}")
        return subscriber.overwhelmed

    assert asyncio.run(scenario())


def test_an_unsubscribed_browser_gets_nothing_more() -> None:
    async def scenario() -> int:
        hub = Hub(history_size=1)
        subscriber, _ = hub.subscribe()
        hub.unsubscribe(subscriber)
        hub.publish("p", "f")
        return subscriber.queue.qsize()

    assert asyncio.run(scenario()) == 0
