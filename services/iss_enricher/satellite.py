"""Everything the dataflow keeps per satellite: the track and the open aggregate windows.

One Bytewax stateful step per satellite (keyed by NORAD id) does both jobs, so each record costs
one state lookup and there is no separate window operator.

Windows are tumbling in event time. A window closes once the satellite's newest event time is
`wait` past the window's end, or, when the satellite falls silent, once `wait` of wall-clock
time has passed beyond that point. A closed window is emitted once; positions that arrive for
it later are stored but no longer counted. At the end of a finite input the open windows are
emitted as they stand, and kept: if the run resumes, they are completed and emitted again
(the table upserts).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bytewax.operators import StatefulBatchLogic

from iss_contract.enriched import EnrichedPosition
from iss_contract.raw import RawPosition
from iss_enricher import aggregate, metrics
from iss_enricher.enrich import EnrichRules, Track, advance

Output = EnrichedPosition | aggregate.WindowAggregate
_ORIGIN = aggregate.WINDOW_ORIGIN.timestamp()


@dataclass(frozen=True, slots=True)
class WindowRules:
    length: timedelta = timedelta(minutes=1)
    """Length of a tumbling window."""
    wait: timedelta = timedelta(seconds=10)
    """How long past its end a window stays open for late positions."""


@dataclass(slots=True)
class SatelliteState:
    """The recoverable state of one satellite (what `snapshot` returns)."""

    norad_id: int | None = None
    """Learnt from the first position (Bytewax hands the builder only the resume state)."""
    track: Track | None = None
    windows: dict[int, aggregate.Accumulator] = field(default_factory=dict)
    closed_through: int | None = None
    """Highest window id already emitted as closed."""


class SatelliteLogic(StatefulBatchLogic[RawPosition, Output, SatelliteState]):
    """Enrich one satellite's positions and fold them into its windows."""

    def __init__(
        self,
        state: SatelliteState | None,
        rules: EnrichRules,
        windows: WindowRules,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._state = state or SatelliteState()
        self._rules = rules
        self._length = windows.length.total_seconds()
        self._wait = windows.wait.total_seconds()
        self._clock = clock
        # Wall-clock time the newest event was seen. After a restart the windows get a fresh
        # `wait`, so positions replayed from the recovery point still land in them.
        self._seen_at = clock()

    def _window_id(self, event_time: float) -> int:
        return math.floor((event_time - _ORIGIN) / self._length)

    def _window_end(self, window_id: int) -> float:
        return _ORIGIN + (window_id + 1) * self._length

    def on_batch(self, values: list[RawPosition]) -> tuple[Iterable[Output], bool]:
        state = self._state
        out: list[Output] = []
        now = datetime.fromtimestamp(self._clock(), UTC)
        if state.norad_id is None and values:
            state.norad_id = values[0].norad_id
        for raw in values:
            state.track, enriched = advance(state.track, raw, self._rules, now)
            if enriched is None:
                metrics.DUPLICATES_DROPPED.inc()
                continue
            out.append(enriched)
            window_id = self._window_id(raw.event_time.timestamp())
            if state.closed_through is not None and window_id <= state.closed_through:
                metrics.LATE_FOR_AGGREGATE.inc()
                continue
            acc = state.windows.get(window_id)
            if acc is None:
                acc = state.windows[window_id] = aggregate.Accumulator()
            aggregate.fold(acc, enriched)
        self._seen_at = self._clock()
        if state.track is not None:
            self._close_through(state.track.last_time - self._wait, out)
        return out, StatefulBatchLogic.RETAIN

    def _close_through(self, watermark: float, out: list[Output]) -> None:
        state = self._state
        for window_id in sorted(state.windows):
            if self._window_end(window_id) > watermark:
                break
            acc = state.windows.pop(window_id)
            out.append(self._finish(window_id, acc))
            if state.closed_through is None or window_id > state.closed_through:
                state.closed_through = window_id

    def _finish(self, window_id: int, acc: aggregate.Accumulator) -> aggregate.WindowAggregate:
        assert self._state.norad_id is not None
        length = timedelta(seconds=self._length)
        return aggregate.finish(self._state.norad_id, window_id, length, acc)

    def on_notify(self) -> tuple[Iterable[Output], bool]:
        out: list[Output] = []
        track = self._state.track
        if track is not None:
            silent_for = self._clock() - self._seen_at
            self._close_through(track.last_time - self._wait + silent_for, out)
        return out, StatefulBatchLogic.RETAIN

    def on_eof(self) -> tuple[Iterable[Output], bool]:
        windows = self._state.windows
        return [self._finish(w, windows[w]) for w in sorted(windows)], StatefulBatchLogic.RETAIN

    def notify_at(self) -> datetime | None:
        state = self._state
        if not state.windows or state.track is None:
            return None
        first_end = self._window_end(min(state.windows))
        due = self._seen_at + (first_end - state.track.last_time) + self._wait
        return datetime.fromtimestamp(due, UTC)

    def snapshot(self) -> SatelliteState:
        state = self._state
        track = state.track
        return SatelliteState(
            norad_id=state.norad_id,
            track=None if track is None else replace(track, recent=deque(track.recent)),
            windows={w: replace(acc) for w, acc in state.windows.items()},
            closed_through=state.closed_through,
        )
