"""Dropping repeated positions: the enriched topic is at-least-once (docs/contracts.md).

After an enricher restart the positions since its last snapshot are enriched and published
again. A position is identified by (NORAD id, event time); the gateway remembers the most recent
`capacity` of them and forwards a position only the first time it sees it. The replayed tail is
about one snapshot interval of traffic, so a memory of that many positions catches every copy.
"""

from __future__ import annotations

from collections import OrderedDict

PositionKey = tuple[int, str]
"""(norad_id, event_time as the enricher writes it: one canonical text per instant)."""


class RecentPositions:
    """The last `capacity` distinct position keys, oldest forgotten first."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._seen: OrderedDict[PositionKey, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def first_time(self, key: PositionKey) -> bool:
        """True the first time a key is offered (within the memory), False for a repeat."""
        seen = self._seen
        if key in seen:
            seen.move_to_end(key)
            return False
        seen[key] = None
        if len(seen) > self._capacity:
            seen.popitem(last=False)
        return True
