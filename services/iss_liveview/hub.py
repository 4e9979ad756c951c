"""Fan-out of positions to every connected browser, with a bounded queue per browser.

One Kafka consumer feeds `Hub.publish`; each browser has its own `Subscriber` queue, drained
by its own writer task. Publishing never awaits: when a browser's queue is full its oldest
frame is dropped, so one slow browser can never hold back the consumer or the others.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(eq=False)
class Subscriber:
    """One browser connection's queue of frames still to be sent."""

    queue: asyncio.Queue[str]
    dropped: int = 0
    max_drops: int = 2000

    @property
    def overwhelmed(self) -> bool:
        """Lost so many frames that resyncing through a reconnect is better than going on."""
        return self.dropped >= self.max_drops

    def offer(self, frame: str) -> bool:
        """Queue `frame`, dropping the oldest queued frame when full; False when one was dropped."""
        dropped = False
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
            dropped = True
        self.queue.put_nowait(frame)
        return not dropped


@dataclass
class Hub:
    """The recent history plus the set of connected subscribers."""

    history_size: int
    queue_size: int = 256
    max_drops: int = 2000
    on_drop: Callable[[], None] = lambda: None
    _history: deque[str] = field(init=False)
    _subscribers: set[Subscriber] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self._history = deque(maxlen=self.history_size)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def history(self) -> list[str]:
        """The recent positions, oldest first."""
        return list(self._history)

    def subscribe(self) -> tuple[Subscriber, list[str]]:
        """Register a new subscriber and return it with the history it has not seen.

        Both happen without yielding to the event loop, so the new browser gets every position
        exactly once: those before this moment in the history, those after it in its queue.
        """
        subscriber = Subscriber(asyncio.Queue(self.queue_size), max_drops=self.max_drops)
        self._subscribers.add(subscriber)
        return subscriber, list(self._history)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def publish(self, position_json: str, frame: str) -> None:
        """Remember one position and queue its frame for every subscriber; never blocks."""
        self._history.append(position_json)
        for subscriber in self._subscribers:
            if not subscriber.offer(frame):
                self.on_drop()
