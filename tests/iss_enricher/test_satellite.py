"""Per-satellite state: enrichment plus event-time windows, timers, end of input, snapshots."""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from iss_contract.enriched import EnrichedPosition
from iss_contract.raw import RawPosition
from iss_enricher.aggregate import WindowAggregate
from iss_enricher.enrich import EnrichRules
from iss_enricher.satellite import Output, SatelliteLogic, SatelliteState, WindowRules

pytestmark = pytest.mark.unit

T0 = datetime(2026, 9, 16, 12, 0, tzinfo=UTC)
WINDOWS = WindowRules(length=timedelta(minutes=1), wait=timedelta(seconds=5))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def pos(second: float) -> RawPosition:
    return RawPosition(
        norad_id=25544,
        event_time=T0 + timedelta(seconds=second),
        latitude=0.0,
        longitude=0.0625 * second,
        source="sgp4",
        producer_id="test",
        sequence=int(second),
        altitude_km=420.0,
    )


def logic(clock: Clock, state: SatelliteState | None = None) -> SatelliteLogic:
    return SatelliteLogic(state, EnrichRules(), WINDOWS, clock=clock)


def rows(outputs: Iterable[Output]) -> list[WindowAggregate]:
    return [o for o in outputs if isinstance(o, WindowAggregate)]


def positions(outputs: Iterable[Output]) -> list[EnrichedPosition]:
    return [o for o in outputs if isinstance(o, EnrichedPosition)]


def feed(sat: SatelliteLogic, *seconds: float) -> list[Output]:
    out, retain = sat.on_batch([pos(s) for s in seconds])
    assert retain is False  # the satellite's state is kept
    return list(out)


def test_a_window_closes_once_events_are_the_wait_past_its_end() -> None:
    sat = logic(Clock())
    assert rows(feed(sat, *range(0, 64))) == []
    (row,) = rows(feed(sat, 65))
    assert (row.norad_id, row.bucket, row.samples) == (25544, T0, 60)


def test_a_silent_satellite_has_its_window_closed_by_the_wall_clock() -> None:
    clock = Clock()
    sat = logic(clock)
    feed(sat, 50, 51)
    due = sat.notify_at()
    # Window ends 9 s after the newest event; plus the 5 s wait.
    assert due == datetime.fromtimestamp(clock.now + 9 + 5, UTC)
    clock.now += 14
    out, _ = sat.on_notify()
    (row,) = rows(out)
    assert row.samples == 2
    assert sat.notify_at() is None


def test_positions_for_a_closed_window_are_stored_but_not_counted_again() -> None:
    sat = logic(Clock())
    feed(sat, *range(0, 66))
    late = feed(sat, 30.5)
    assert len(positions(late)) == 1
    assert rows(late) == []
    (still_open,) = rows(sat.on_eof()[0])
    assert (still_open.bucket, still_open.samples) == (T0 + timedelta(minutes=1), 6)


def test_out_of_order_positions_in_an_open_window_are_counted() -> None:
    sat = logic(Clock())
    feed(sat, 0, 2, 1)
    (row,) = rows(sat.on_eof()[0])
    assert row.samples == 3


def test_end_of_input_emits_open_windows_and_keeps_them_for_a_resumed_run() -> None:
    sat = logic(Clock())
    feed(sat, 0, 1)
    (partial,) = rows(sat.on_eof()[0])
    assert partial.samples == 2
    feed(sat, 2)
    (complete,) = rows(sat.on_eof()[0])
    assert complete.samples == 3


def test_a_restored_snapshot_continues_the_track_and_the_window() -> None:
    clock = Clock()
    sat = logic(clock)
    feed(sat, 0, 1)
    saved = pickle.loads(pickle.dumps(sat.snapshot()))
    feed(sat, 2)  # processed after the snapshot: lost with the process
    clock.now += 3600  # restarted an hour later
    resumed = logic(clock, saved)
    out = feed(resumed, 2, 3)
    assert [p.ground_speed_kmh is not None for p in positions(out)] == [True, True]
    # The replayed window still collects its positions despite the hour of downtime.
    (row,) = rows(resumed.on_eof()[0])
    assert row.samples == 4


def test_snapshots_do_not_change_when_the_state_moves_on() -> None:
    sat = logic(Clock())
    feed(sat, 0, 1)
    saved = sat.snapshot()
    feed(sat, 2, 3)
    assert saved.track is not None
    assert len(saved.track.recent) == 2
    assert saved.windows[next(iter(saved.windows))].samples == 2
