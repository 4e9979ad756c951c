"""Everything the dataflow keeps per satellite: the track and the open aggregate windows.

One `SatelliteLogic` per satellite does both jobs, so there is no separate window operator. The
dataflow keeps these inside state buckets (`iss_enricher.buckets`) and calls `feed`, `notify`
and `open_windows`; the class is also a complete Bytewax `StatefulBatchLogic` for a stream keyed
by NORAD id.

Windows are tumbling in event time. A window closes once the satellite's newest event time is
`wait` past the window's end, or, when the satellite falls silent, once `wait` of wall-clock
time has passed beyond that point. A closed window is emitted once. A position that arrives for
it later (late data, or positions queued behind a stall of the input, during which every
satellite looks silent) is stored, counted in `iss_enricher_late_for_aggregate_total`, and names
its window in the batch's `late_windows`: the positions output recounts that window from the
stored positions (`iss_enricher.aggregate`). At the end of a finite input the open windows are
emitted as they stand, and kept: if the run resumes, they are completed and emitted again
(the table upserts, keeping the larger count).
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
        positions: list[EnrichedPosition] = []
        aggregates: list[aggregate.WindowAggregate] = []
        now = self._clock()
        self.feed(values, datetime.fromtimestamp(now, UTC), now, positions, aggregates)
        out: list[Output] = [*positions, *aggregates]
        return out, StatefulBatchLogic.RETAIN

    def feed(
        self,
        values: list[RawPosition],
        now: datetime,
        seen_at: float,
        positions: list[EnrichedPosition],
        aggregates: list[aggregate.WindowAggregate],
        failures: list[tuple[RawPosition, BaseException]] | None = None,
    ) -> None:
        """Process positions in order: enriched ones go to `positions`, closed windows to
        `aggregates`. `now` stamps `enriched_at`; `seen_at` is the wall-clock time (unix).

        With a `failures` list, a position whose enrichment raises goes there with the
        exception, and the others carry on; without one, the exception propagates."""
        state = self._state
        if state.norad_id is None and values:
            state.norad_id = values[0].norad_id
        rules = self._rules
        windows = state.windows
        for raw in values:
            moment = raw.event_time.timestamp()
            try:
                state.track, enriched = advance(state.track, raw, rules, now, moment)
            except Exception as exc:
                if failures is None:
                    raise
                failures.append((raw, exc))
                continue
            if enriched is None:
                metrics.DUPLICATES_DROPPED.inc()
                continue
            positions.append(enriched)
            window_id = self._window_id(moment)
            if state.closed_through is not None and window_id <= state.closed_through:
                metrics.LATE_FOR_AGGREGATE.inc()
                if isinstance(positions, aggregate.PositionBatch):
                    start = aggregate.window_start(window_id, timedelta(seconds=self._length))
                    positions.late_windows.add((raw.norad_id, start))
                continue
            acc = windows.get(window_id)
            if acc is None:
                acc = windows[window_id] = aggregate.Accumulator()
            aggregate.fold(acc, enriched)
        self._seen_at = seen_at
        if state.track is not None:
            self._close_through(state.track.last_time - self._wait, aggregates)

    def _close_through(self, watermark: float, out: list[aggregate.WindowAggregate]) -> None:
        state = self._state
        if not state.windows or self._window_end(min(state.windows)) > watermark:
            return  # the usual case: the oldest open window is still open
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
        return self.notify(self._clock()), StatefulBatchLogic.RETAIN

    def notify(self, now: float) -> list[aggregate.WindowAggregate]:
        """Close the windows that waited long enough while the satellite was silent."""
        out: list[aggregate.WindowAggregate] = []
        track = self._state.track
        if track is not None:
            silent_for = now - self._seen_at
            self._close_through(track.last_time - self._wait + silent_for, out)
        return out

    def on_eof(self) -> tuple[Iterable[Output], bool]:
        return self.open_windows(), StatefulBatchLogic.RETAIN

    def open_windows(self) -> list[aggregate.WindowAggregate]:
        """The open windows as they stand (end of a finite input); they stay open."""
        windows = self._state.windows
        return [self._finish(w, windows[w]) for w in sorted(windows)]

    def notify_at(self) -> datetime | None:
        due = self.due()
        return None if due is None else datetime.fromtimestamp(due, UTC)

    def due(self) -> float | None:
        """Unix time at which the oldest open window closes if nothing more arrives."""
        state = self._state
        if not state.windows or state.track is None:
            return None
        first_end = self._window_end(min(state.windows))
        return self._seen_at + (first_end - state.track.last_time) + self._wait

    def snapshot(self) -> SatelliteState:
        state = self._state
        track = state.track
        return SatelliteState(
            norad_id=state.norad_id,
            track=None if track is None else replace(track, recent=deque(track.recent)),
            windows={w: replace(acc) for w, acc in state.windows.items()},
            closed_through=state.closed_through,
        )
