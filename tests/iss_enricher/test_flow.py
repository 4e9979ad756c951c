"""The dataflow wired to in-memory sources and sinks."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bytewax.connectors.kafka import KafkaSourceMessage
from bytewax.recovery import RecoveryConfig, init_db_dir
from bytewax.testing import TestingSink, TestingSource, run_main

from iss_contract.enriched import EnrichedPosition
from iss_contract.raw import RawPosition
from iss_enricher.aggregate import WindowAggregate
from iss_enricher.flow import FlowSettings, Sinks, build_flow
from iss_enricher.publish import KeyValue
from tests.iss_enricher.fixtures import bad_records

pytestmark = pytest.mark.unit

T0 = datetime(2026, 9, 16, 12, 0, tzinfo=UTC)


@dataclass
class Outputs:
    positions: list[EnrichedPosition] = field(default_factory=list)
    aggregates: list[WindowAggregate] = field(default_factory=list)
    dead_letters: list[KeyValue] = field(default_factory=list)


_PAYLOAD_KEY = b"<the payload's norad_id>"


def message(
    value: bytes, offset: int, key: bytes | None = _PAYLOAD_KEY
) -> KafkaSourceMessage[bytes | None, bytes | None]:
    """A raw-topic message, keyed by default as the producer keys it (the payload's NORAD id)."""
    if key is _PAYLOAD_KEY:
        try:
            key = str(json.loads(value)["norad_id"]).encode()
        except (ValueError, TypeError, KeyError):
            key = b"25544"
    return KafkaSourceMessage(key=key, value=value, topic="raw", partition=0, offset=offset)


def position(second: int, norad_id: int = 25544, lon0: float = 0.0) -> RawPosition:
    return RawPosition(
        norad_id=norad_id,
        event_time=T0 + timedelta(seconds=second),
        latitude=0.0,
        longitude=lon0 + 0.0625 * second,
        source="sgp4",
        producer_id="test",
        sequence=second,
        altitude_km=420.0 + second / 100,
    )


def run(items: Sequence[object], batch_size: int = 1) -> Outputs:
    out = Outputs()
    position_lists: list[list[EnrichedPosition]] = []
    sinks = Sinks(
        positions=TestingSink(position_lists),
        aggregates=TestingSink(out.aggregates),
        dead_letters=TestingSink(out.dead_letters),
    )
    flow = build_flow(TestingSource(items, batch_size), sinks, FlowSettings(raw_topic="raw"))
    run_main(flow)  # type: ignore[no-untyped-call]
    out.positions = [p for positions in position_lists for p in positions]
    return out


def test_every_bad_record_class_becomes_a_dead_letter_with_its_reason_and_bytes() -> None:
    records = bad_records()
    out = run([message(value, i) for i, value in enumerate(records.values())])
    assert out.positions == []
    letters = [json.loads(value) for _, value in out.dead_letters]
    assert [letter["reason"] for letter in letters] == [reason.value for reason in records]
    for letter, original in zip(letters, records.values(), strict=True):
        assert base64.b64decode(letter["value_b64"]) == original
        assert letter["schema"] == "iss.deadletter/v1"
        assert letter["topic"] == "raw"
    assert [letter["offset"] for letter in letters] == list(range(len(records)))
    assert {key for key, _ in out.dead_letters} == {b"25544"}


def test_a_null_value_is_a_dead_letter_not_a_crash() -> None:
    out = run([message(b"", 0, key=None)])
    (letter,) = [json.loads(v) for _, v in out.dead_letters]
    assert letter["reason"] == "invalid_json"
    assert letter["key"] is None


def test_valid_positions_are_enriched_and_output_in_order() -> None:
    out = run([message(position(s).to_bytes(), s) for s in range(5)])
    assert [p.raw.sequence for p in out.positions] == [0, 1, 2, 3, 4]
    assert out.positions[0].ground_speed_kmh is None
    assert out.positions[1].ground_speed_kmh == pytest.approx(25019.0, abs=1.0)


def test_bad_records_between_good_ones_do_not_disturb_the_track() -> None:
    items = [
        message(position(0).to_bytes(), 0),
        message(b"{", 1),
        message(position(1).to_bytes(), 2),
    ]
    out = run(items)
    assert len(out.dead_letters) == 1
    assert out.positions[1].ground_speed_kmh == pytest.approx(25019.0, abs=1.0)


def test_duplicates_are_neither_stored_twice_nor_counted_twice_in_aggregates() -> None:
    once = [message(position(s).to_bytes(), s) for s in range(60)]
    again = [message(position(s).to_bytes(), 100 + s) for s in range(50, 60)]
    out = run([*once, *again])
    assert len(out.positions) == 60
    (window,) = out.aggregates
    assert window.samples == 60


def test_one_minute_aggregates_per_satellite() -> None:
    items = [message(position(s, 25544).to_bytes(), s) for s in range(90)]
    items += [message(position(s, 20580, lon0=100.0).to_bytes(), 100 + s) for s in range(30)]
    out = run(items)
    by_key = {(a.norad_id, a.bucket): a for a in out.aggregates}
    assert set(by_key) == {
        (25544, T0),
        (25544, T0 + timedelta(minutes=1)),
        (20580, T0),
    }
    first = by_key[(25544, T0)]
    assert first.samples == 60
    assert first.min_altitude_km == pytest.approx(420.0)
    assert first.max_altitude_km == pytest.approx(420.59)
    assert first.mean_ground_speed_kmh == pytest.approx(25019.0, abs=1.0)
    assert first.mean_orbital_speed_kmh == pytest.approx(27560.0, abs=20.0)
    assert by_key[(25544, T0 + timedelta(minutes=1))].samples == 30
    assert by_key[(20580, T0)].samples == 30


def test_satellites_are_tracked_independently() -> None:
    items = []
    for s in range(3):
        items.append(message(position(s, 25544).to_bytes(), 2 * s))
        items.append(message(position(s, 20580, lon0=100.0).to_bytes(), 2 * s + 1))
    out = run(items)
    speeds = {(p.raw.norad_id, p.raw.sequence): p.ground_speed_kmh for p in out.positions}
    assert speeds[(20580, 1)] == pytest.approx(25019.0, abs=1.0)
    assert speeds[(25544, 2)] == pytest.approx(25019.0, abs=1.0)


def interleaved(seconds: int) -> list[KafkaSourceMessage[bytes | None, bytes | None]]:
    items = []
    for s in range(seconds):
        for n, norad_id in enumerate((25544, 20580, 33591)):
            offset = 3 * s + n
            items.append(message(position(s, norad_id, lon0=n).to_bytes(), offset))
    items.insert(40, message(b"{", 999))
    return items


def summary(out: Outputs) -> tuple[object, ...]:
    by_satellite: dict[int, list[tuple[int, float | None]]] = {}
    for p in out.positions:
        by_satellite.setdefault(p.raw.norad_id, []).append((p.raw.sequence, p.ground_speed_kmh))
    windows = sorted((a.norad_id, a.bucket, a.samples) for a in out.aggregates)
    return by_satellite, windows, len(out.dead_letters)


def test_input_in_large_batches_gives_the_same_results_as_record_by_record() -> None:
    items = interleaved(90)
    one_by_one = summary(run(items, batch_size=1))
    assert summary(run(items, batch_size=64)) == one_by_one
    by_satellite = one_by_one[0]
    assert isinstance(by_satellite, dict)
    assert [s for s, _ in by_satellite[20580]] == list(range(90))  # per-satellite order kept


def test_a_restarted_flow_resumes_every_satellite_from_its_recovery_snapshot(
    tmp_path: Path,
) -> None:
    items: list[object] = [message(position(s, 25544).to_bytes(), s) for s in range(30)]
    items.insert(20, TestingSource.ABORT())
    items += [message(position(s, 20580).to_bytes(), 100 + s) for s in range(5)]
    init_db_dir(tmp_path, 1)  # type: ignore[no-untyped-call]
    recovery = RecoveryConfig(tmp_path)  # type: ignore[no-untyped-call]
    out = Outputs()
    position_lists: list[list[EnrichedPosition]] = []
    sinks = Sinks(
        positions=TestingSink(position_lists),
        aggregates=TestingSink(out.aggregates),
        dead_letters=TestingSink(out.dead_letters),
    )
    flow = build_flow(TestingSource(items, 4), sinks, FlowSettings(raw_topic="raw"))
    # The abort stops the execution after 20 records, as a crash would.
    run_main(flow, epoch_interval=timedelta(0), recovery_config=recovery)  # type: ignore[no-untyped-call]
    stored_before = len([p for ps in position_lists for p in ps])
    assert 0 < stored_before <= 20
    position_lists.clear()
    run_main(flow, epoch_interval=timedelta(0), recovery_config=recovery)  # type: ignore[no-untyped-call]
    resumed = [p for ps in position_lists for p in ps if p.raw.norad_id == 25544]
    assert resumed
    assert resumed[-1].raw.sequence == 29
    # The first record after the restart continues the snapshotted track: it has a speed.
    assert all(p.ground_speed_kmh == pytest.approx(25019.0, abs=1.0) for p in resumed)
    (window,) = [a for a in out.aggregates if a.norad_id == 25544][-1:]
    assert window.samples == 30  # the restored window counts every position once
