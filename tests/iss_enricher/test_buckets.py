"""Satellites kept in state buckets: lists in, same per-satellite behaviour as one key each."""

from __future__ import annotations

import pickle
import random
from datetime import UTC, datetime, timedelta

import pytest

from iss_contract.raw import RawPosition
from iss_enricher.aggregate import WindowAggregate
from iss_enricher.buckets import BucketLogic, BucketState, Tracked, bucket_of
from iss_enricher.enrich import EnrichRules
from iss_enricher.satellite import SatelliteLogic, WindowRules

pytestmark = pytest.mark.unit

T0 = datetime(2026, 9, 16, 12, 0, tzinfo=UTC)
WINDOWS = WindowRules(length=timedelta(minutes=1), wait=timedelta(seconds=5))
ISS, HUBBLE, NOAA = 25544, 20580, 33591


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def pos(norad_id: int, second: float) -> RawPosition:
    return RawPosition(
        norad_id=norad_id,
        event_time=T0 + timedelta(seconds=second),
        latitude=0.0,
        longitude=(norad_id % 100) + 0.0625 * second,
        source="sgp4",
        producer_id="test",
        sequence=int(second),
        altitude_km=420.0 + second / 100,
    )


def bucket(clock: Clock, state: BucketState | None = None) -> BucketLogic:
    return BucketLogic(state, EnrichRules(), WINDOWS, clock=clock)


def feed(logic: BucketLogic, *batches: list[RawPosition]) -> Tracked:
    (out,), retain = logic.on_batch(list(batches))
    assert retain is False  # the bucket's state is kept
    return out


def speeds(tracked: Tracked, norad_id: int) -> list[float | None]:
    return [p.ground_speed_kmh for p in tracked.positions if p.raw.norad_id == norad_id]


def test_satellites_sharing_a_bucket_keep_separate_tracks_across_batches() -> None:
    logic = bucket(Clock())
    first = feed(logic, [pos(ISS, 0), pos(HUBBLE, 0)], [pos(ISS, 1)])
    assert speeds(first, ISS) == [None, pytest.approx(25019.0, abs=1.0)]
    assert speeds(first, HUBBLE) == [None]
    second = feed(logic, [pos(HUBBLE, 1), pos(ISS, 2)])
    assert speeds(second, HUBBLE) == [pytest.approx(25019.0, abs=1.0)]
    assert speeds(second, ISS) == [pytest.approx(25019.0, abs=1.0)]


def test_each_satellite_sees_its_positions_in_arrival_order() -> None:
    logic = bucket(Clock())
    out = feed(logic, [pos(ISS, 0), pos(HUBBLE, 0), pos(ISS, 2)], [pos(ISS, 1), pos(ISS, 3)])
    assert [p.raw.sequence for p in out.positions if p.raw.norad_id == ISS] == [0, 2, 1, 3]
    # 1 arrived after 2: stored, but out of order, so it measures no speed and 3 measures from 2.
    assert speeds(out, ISS)[2] is None
    assert speeds(out, ISS)[3] == pytest.approx(25019.0, abs=1.0)


def test_a_bucket_gives_exactly_what_one_logic_per_satellite_gives() -> None:
    rng = random.Random(7)
    records = [pos(n, s) for s in range(150) for n in (ISS, HUBBLE, NOAA)]
    records += [pos(ISS, s) for s in rng.sample(range(150), 20)]  # duplicates, out of order
    rng.shuffle(records)
    clock = Clock()
    logic = bucket(clock)
    singles = {n: SatelliteLogic(None, EnrichRules(), WINDOWS, clock=clock) for n in (ISS, HUBBLE)}
    singles[NOAA] = SatelliteLogic(None, EnrichRules(), WINDOWS, clock=clock)
    got: list[object] = []
    expected: list[object] = []
    for start in range(0, len(records), 17):
        chunk = records[start : start + 17]
        out = feed(logic, chunk[:5], chunk[5:])
        got += [*out.positions, *out.aggregates]
        for norad_id, single in singles.items():
            mine = [r for r in chunk if r.norad_id == norad_id]
            if mine:
                expected += list(single.on_batch(mine)[0])
        clock.now += 1.0
    (tail,), _ = logic.on_eof()
    got += tail.aggregates
    for single in singles.values():
        expected += list(single.on_eof()[0])

    def key(item: object) -> tuple[object, ...]:
        if isinstance(item, WindowAggregate):
            return ("w", item.norad_id, item.bucket, item.samples)
        return ("p", repr(item))

    assert sorted(map(key, got)) == sorted(map(key, expected))
    assert any(isinstance(item, WindowAggregate) for item in got)


def test_a_restored_snapshot_continues_every_satellite() -> None:
    clock = Clock()
    logic = bucket(clock)
    feed(logic, [pos(ISS, 0), pos(HUBBLE, 0), pos(ISS, 1)])
    saved = pickle.loads(pickle.dumps(logic.snapshot()))
    feed(logic, [pos(ISS, 2)])  # processed after the snapshot: lost with the process
    clock.now += 3600  # restarted an hour later
    resumed = bucket(clock, saved)
    out = feed(resumed, [pos(ISS, 2), pos(HUBBLE, 1), pos(ISS, 3)])
    assert all(p.ground_speed_kmh is not None for p in out.positions)
    (tail,), _ = resumed.on_eof()
    assert {(a.norad_id, a.samples) for a in tail.aggregates} == {(ISS, 4), (HUBBLE, 2)}


def test_snapshots_do_not_change_when_the_state_moves_on() -> None:
    logic = bucket(Clock())
    feed(logic, [pos(ISS, 0), pos(ISS, 1), pos(HUBBLE, 0)])
    saved = logic.snapshot()
    feed(logic, [pos(ISS, 2), pos(ISS, 3)])
    track = saved[ISS].track
    assert track is not None
    assert len(track.recent) == 2
    assert saved[ISS].windows[next(iter(saved[ISS].windows))].samples == 2
    assert logic.snapshot()[HUBBLE] is saved[HUBBLE]  # untouched satellites are not copied again


def test_the_wall_clock_closes_the_windows_of_silent_satellites_only_when_due() -> None:
    clock = Clock()
    logic = bucket(clock)
    feed(logic, [pos(ISS, 0), pos(HUBBLE, 30)])
    due = logic.notify_at()
    # ISS's window ends 60 s after its newest event, plus the 5 s wait; Hubble's 35 s.
    assert due == datetime.fromtimestamp(clock.now + 35.0, UTC)
    clock.now += 35.0
    (closed,), _ = logic.on_notify()
    assert [(a.norad_id, a.samples) for a in closed.aggregates] == [(HUBBLE, 1)]
    assert logic.notify_at() == datetime.fromtimestamp(clock.now - 35.0 + 65.0, UTC)
    clock.now += 30.0
    (closed,), _ = logic.on_notify()
    assert [(a.norad_id, a.samples) for a in closed.aggregates] == [(ISS, 1)]
    assert logic.notify_at() is None
    assert logic.on_notify()[0] == []


def test_end_of_input_emits_the_open_windows_of_every_satellite_and_keeps_them() -> None:
    logic = bucket(Clock())
    feed(logic, [pos(ISS, 0), pos(HUBBLE, 0), pos(ISS, 1)])
    (tail,), retain = logic.on_eof()
    assert retain is False
    assert sorted((a.norad_id, a.samples) for a in tail.aggregates) == [(HUBBLE, 1), (ISS, 2)]
    feed(logic, [pos(HUBBLE, 1)])
    (again,), _ = logic.on_eof()
    assert sorted((a.norad_id, a.samples) for a in again.aggregates) == [(HUBBLE, 2), (ISS, 2)]


def test_a_satellite_always_maps_to_the_same_bucket() -> None:
    assert bucket_of(ISS, 64) == bucket_of(ISS, 64) == str(ISS % 64)
    assert {bucket_of(n, 4) for n in range(100)} == {"0", "1", "2", "3"}
