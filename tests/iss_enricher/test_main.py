"""`iss-enricher` end to end: a real broker, a real database, the real process."""

from __future__ import annotations

import base64
import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from msgspec.structs import replace

from iss_contract.raw import RawPosition
from tests.iss_enricher.fixtures import (
    TLE_EPOCH,
    bad_records,
    central_angle_km,
    great_circle_track,
    low_precision_sun_elevation,
    sgp4_track,
    unit_vector,
)
from tests.support.enricher import Pipeline, stop
from tests.support.exposition import sample_value
from tests.support.messages import keyed
from tests.support.ports import free_port

pytestmark = pytest.mark.services


def assert_windows_equal_positions(pipeline: Pipeline, window_s: int = 60) -> int:
    """Every aggregate row counts exactly its stored positions, and every window with stored
    positions has its row; returns the number of windows."""
    counted = pipeline.rows(
        "SELECT norad_id, bucket, samples, min_altitude_km, max_altitude_km FROM positions_1m"
    )
    truth = pipeline.rows(
        f"SELECT norad_id, to_timestamp(floor(extract(epoch FROM event_time) / {window_s})"
        f" * {window_s}), count(*), min(altitude_km), max(altitude_km) FROM positions GROUP BY 1, 2"
    )
    short = sorted(set(truth) - set(counted))
    assert not short, f"{len(short)} of {len(truth)} windows differ from their positions"
    assert len(counted) == len(truth)
    return len(truth)


def test_a_known_sgp4_track_is_stored_with_correct_enrichment(pipeline: Pipeline) -> None:
    # One full orbit (95 min) every 10 s: day and night, both hemispheres.
    track = sgp4_track(TLE_EPOCH, 570, 10.0)
    pipeline.produce(keyed([p.position for p in track]))
    pipeline.run_to_end()

    rows = pipeline.rows(
        "SELECT event_time, ground_speed_kmh, orbital_speed_kmh, ground_daylight,"
        " satellite_sunlit, heading_deg, footprint_radius_km FROM positions ORDER BY event_time"
    )
    assert len(rows) == len(track)
    assert rows[0][1] is None
    speeds = []
    for previous, point, row in zip(track[:-1], track[1:], rows[1:], strict=True):
        expected = central_angle_km(previous.position, point.position) / 10.0 * 3600.0
        assert row[1] == pytest.approx(expected, rel=1e-6)
        speeds.append(row[1])
        assert row[2] == pytest.approx(point.inertial_speed_kmh, rel=3e-3)
        assert 0.0 <= row[5] < 360.0
        assert 2150.0 < row[6] < 2350.0
    assert 24_500 < sum(speeds) / len(speeds) < 25_100
    assert 27_400 < sum(r[2] for r in rows) / len(rows) < 27_800

    daylight = [r[3] for r in rows]
    assert any(daylight)
    assert not all(daylight)
    for point, row in zip(track, rows, strict=True):
        p = point.position
        elevation = low_precision_sun_elevation(p.event_time, p.latitude, p.longitude)
        if abs(elevation) > 0.5:
            assert row[3] is (elevation > 0), (p.event_time, elevation)
        if row[3]:
            assert row[4] is True
    # Sunlit over dark ground happens just past the terminator, never deep in the night.
    assert any(r[4] and not r[3] for r in rows)
    assert any(not r[4] for r in rows)

    published = pipeline.topic_values(pipeline.enriched, len(track))
    assert len(published) == len(track)
    first = json.loads(published[1].value())
    assert first["schema"] == "iss.position.enriched/v1"
    assert first["ground_speed_kmh"] == pytest.approx(rows[1][1])
    assert published[1].key() == b"25544"

    samples = pipeline.rows("SELECT sum(samples), count(*) FROM positions_1m")[0]
    assert samples[0] == len(track)
    assert samples[1] in (95, 96)

    admin = AdminClient({"bootstrap.servers": pipeline.bootstrap})
    offsets = admin.list_consumer_group_offsets([_group_request(pipeline.group, pipeline.raw)])
    committed = offsets[pipeline.group].result().topic_partitions
    assert [tp.offset for tp in committed] == [len(track)]


def _group_request(group: str, topic: str) -> Any:
    from confluent_kafka import ConsumerGroupTopicPartitions

    return ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0)])


def test_antimeridian_and_pole_crossings_keep_a_steady_ground_speed(pipeline: Pipeline) -> None:
    start = TLE_EPOCH
    # Along the equator eastward from 175E, over the antimeridian.
    equatorial = list(
        great_circle_track(90001, start, (0.0, 0.0, 1.0), unit_vector(0.0, 175.0), 160)
    )
    # Along the 30E meridian northward from 80.03N, over the pole and down 150W (no sample
    # falls exactly on the pole, where a heading is undefined).
    polar = list(
        great_circle_track(90002, start, unit_vector(0.0, -60.0), unit_vector(80.03, 30.0), 320)
    )
    assert any(p.longitude < -170 for p in equatorial)
    assert max(p.latitude for p in polar) > 89.9
    pipeline.produce(keyed(equatorial + polar))
    pipeline.run_to_end()

    for norad_id, expected_headings in ((90001, {90.0}), (90002, {0.0, 180.0})):
        rows = pipeline.rows(
            f"SELECT ground_speed_kmh, heading_deg FROM positions WHERE norad_id = {norad_id}"
            " AND ground_speed_kmh IS NOT NULL ORDER BY event_time"
        )
        assert len(rows) == (159 if norad_id == 90001 else 319)
        for speed, heading in rows:
            assert speed == pytest.approx(25_019.0, rel=1e-3)
            assert any(
                abs(heading - h) < 1.0 or abs(heading - h) > 359.0 for h in expected_headings
            )


def test_duplicates_and_replays_give_no_duplicate_rows(pipeline: Pipeline) -> None:
    track = [p.position for p in sgp4_track(TLE_EPOCH, 120, 1.0)]
    records = keyed(track)
    pipeline.produce(records + records[10:20] + records[::-1])
    pipeline.run_to_end()
    assert pipeline.count() == 120
    duplicates = pipeline.rows(
        "SELECT count(*) FROM (SELECT norad_id, event_time FROM positions"
        " GROUP BY 1, 2 HAVING count(*) > 1) d"
    )
    assert duplicates == [(0,)]
    speeds = pipeline.rows("SELECT ground_speed_kmh FROM positions WHERE ground_speed_kmh > 0")
    assert all(24_000 < s < 25_500 for (s,) in speeds)
    assert len(speeds) == 119
    # The replay must not inflate the one-minute aggregates either.
    assert pipeline.rows("SELECT sum(samples) FROM positions_1m") == [(120,)]

    pipeline.produce(records)  # a later replay, processed by a fresh run
    pipeline.run_to_end()
    assert pipeline.count() == 120


def test_every_bad_record_class_lands_in_the_dead_letter_topic(pipeline: Pipeline) -> None:
    bad = bad_records()
    good = [p.position for p in sgp4_track(TLE_EPOCH, 3, 1.0)]
    values: list[tuple[bytes | None, bytes]] = [(good[0].key, good[0].to_bytes())]
    values += [(f"bad-{reason.value}".encode(), value) for reason, value in bad.items()]
    values += keyed(good[1:])
    pipeline.produce(values)
    pipeline.run_to_end()

    assert pipeline.count() == 3
    letters = pipeline.topic_values(pipeline.deadletter, len(bad))
    assert len(letters) == len(bad)
    by_reason = {json.loads(m.value())["reason"]: m for m in letters}
    assert set(by_reason) == {reason.value for reason in bad}
    for reason, original in bad.items():
        message = by_reason[reason.value]
        letter = json.loads(message.value())
        assert base64.b64decode(letter["value_b64"]) == original
        assert letter["topic"] == pipeline.raw
        assert letter["key"] == f"bad-{reason.value}"
        assert message.key() == f"bad-{reason.value}".encode()
        assert letter["detail"]


class Feeder(threading.Thread):
    """Produce a track at a steady rate in the background, until it ends or `halt` is set."""

    def __init__(self, pipeline: Pipeline, positions: list[RawPosition], rate: float) -> None:
        super().__init__(daemon=True)
        self.pipeline = pipeline
        self.positions = positions
        self.rate = rate
        self.sent = 0
        self.halt = threading.Event()

    def run(self) -> None:
        producer = Producer({"bootstrap.servers": self.pipeline.bootstrap, "linger.ms": 1})
        started = time.monotonic()
        for i, position in enumerate(self.positions):
            if self.halt.is_set():
                break
            delay = started + i / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            producer.produce(self.pipeline.raw, key=position.key, value=position.to_bytes())
            producer.poll(0)
            self.sent = i + 1
        assert producer.flush(30) == 0


def committed_epoch(stores: list[Path]) -> int:
    """The oldest epoch committed over the recovery partitions in `stores` (Bytewax's
    `commits` table; a store may hold none), 0 while any has none; a resume starts after it."""
    epochs = []
    for part in (part for store in stores for part in store.glob("part-*.sqlite3")):
        try:
            with closing(sqlite3.connect(f"file:{part}?mode=ro", uri=True, timeout=1)) as db:
                (epoch,) = db.execute("SELECT max(commit_epoch) FROM commits").fetchone()
        except sqlite3.Error:  # being written this very moment: ask again
            return 0
        epochs.append(epoch or 0)
    return min(epochs, default=0)


def wait_for_snapshot(stores: list[Path], timeout: float = 30.0) -> None:
    """Wait until the recovery stores have committed an epoch past the first, so that a
    resume has a snapshot to start from (under load the first epochs can take seconds)."""
    deadline = time.monotonic() + timeout
    while committed_epoch(stores) < 2:
        assert time.monotonic() < deadline, "no snapshot was committed"
        time.sleep(0.1)


def interrupt_and_resume(
    pipeline: Pipeline,
    track: list[RawPosition],
    recovery: Path,
    log: Path,
    interrupt: Callable[[subprocess.Popen[bytes]], None],
) -> tuple[subprocess.Popen[bytes], int]:
    """Feed the track at 150/s to an enricher with a recovery store, `interrupt` it after 600
    rows and a committed snapshot (long enough a track leaves room for a slow first snapshot
    under load), start it again on the same store and wait until every position is stored.

    Returns the running second process and the row count right after the interruption.
    """
    feeder = Feeder(pipeline, track, rate=150.0)
    feeder.start()
    process = pipeline.start("-r", str(recovery), log=log)
    try:
        pipeline.wait_for_rows(600, 60, lambda: process.poll() is None)
        wait_for_snapshot([recovery])
        interrupt(process)
        interrupted_at = pipeline.count()
        assert interrupted_at < len(track), "the interruption came too late to interrupt anything"
        process = pipeline.start("-r", str(recovery), log=log)
        feeder.join(60)
        pipeline.wait_for_rows(len(track), 120, lambda: process.poll() is None)
    except BaseException:
        stop(process)
        raise
    return process, interrupted_at


def test_a_killed_enricher_resumes_from_its_recovery_store_without_losing_rows(
    pipeline: Pipeline, tmp_path: Path, enricher_log: Path
) -> None:
    recovery = tmp_path / "recovery"
    track = [p.position for p in sgp4_track(TLE_EPOCH, 2400, 1.0)]

    def kill(process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        time.sleep(2.0)

    process, killed_at = interrupt_and_resume(pipeline, track, recovery, enricher_log, kill)
    stop(process)
    assert pipeline.count() == len(track)
    # The restored state carried the track across the kill: only the very first position of
    # the satellite lacks a ground speed.
    assert pipeline.rows("SELECT count(*) FROM positions WHERE ground_speed_kmh IS NULL") == [(1,)]
    assert any(recovery.glob("part-*.sqlite3"))
    # It resumed from its snapshot rather than from the start of the topic: only a short tail
    # (about one snapshot interval) was enriched and published twice.
    published = pipeline.topic_values(pipeline.enriched, len(track) + killed_at, timeout=10)
    assert len(track) <= len(published) < len(track) + killed_at


def test_a_stop_signal_drains_the_enricher_which_resumes_without_replaying_anything(
    pipeline: Pipeline, tmp_path: Path, enricher_log: Path
) -> None:
    track = [p.position for p in sgp4_track(TLE_EPOCH, 2400, 1.0)]

    def terminate(process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0

    process, _ = interrupt_and_resume(
        pipeline, track, tmp_path / "recovery", enricher_log, terminate
    )
    try:
        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0
    finally:
        stop(process)
    assert pipeline.count() == len(track)
    assert pipeline.rows("SELECT count(*) FROM positions WHERE ground_speed_kmh IS NULL") == [(1,)]
    # The stop took a final snapshot: the restart went on from there, so nothing was enriched
    # and published twice, and every position is counted in exactly one one-minute window.
    published = pipeline.topic_values(pipeline.enriched, len(track), timeout=10)
    assert len(published) == len(track)
    assert pipeline.rows("SELECT sum(samples)::int FROM positions_1m") == [(len(track),)]


def test_a_second_stop_signal_ends_an_enricher_that_waits_for_a_database_that_is_down(
    pipeline: Pipeline, enricher_log: Path
) -> None:
    pipeline.produce(keyed([p.position for p in sgp4_track(TLE_EPOCH, 20, 1.0)]))
    pipeline.dsn = f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"  # nothing listens
    process = pipeline.start(log=enricher_log)
    try:
        deadline = time.monotonic() + 60
        while "write to positions failed" not in enricher_log.read_text():
            assert process.poll() is None
            assert time.monotonic() < deadline, "the enricher never tried to write"
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(3)  # the batch is held (not dropped) until the database is back
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 130
    finally:
        stop(process)
    assert "stopped at once by a second signal" in enricher_log.read_text()


def test_a_database_outage_mid_stream_loses_nothing(
    pipeline: Pipeline, postgres: Any, enricher_log: Path
) -> None:
    positions = [p.position for p in sgp4_track(TLE_EPOCH, 20_000, 1.0)]
    warm_up, stream = positions[:50], positions[50:]
    process = pipeline.start(log=enricher_log)
    feeder = Feeder(pipeline, stream, rate=100.0)
    try:
        pipeline.produce(keyed(warm_up))
        pipeline.wait_for_rows(len(warm_up), 90, lambda: process.poll() is None)
        feeder.start()
        pipeline.wait_for_rows(len(warm_up) + 50, 60, lambda: process.poll() is None)
        postgres.stop()
        try:
            time.sleep(3.0)  # positions keep arriving while the database is down
            assert feeder.is_alive()
            assert process.poll() is None, "the enricher crashed while the database was down"
        finally:
            postgres.start()
        time.sleep(2.0)
        feeder.halt.set()
        feeder.join(60)
        track = positions[: len(warm_up) + feeder.sent]
        pipeline.wait_for_rows(len(track), 120, lambda: process.poll() is None)
        time.sleep(1.5)  # one more lag sample from librdkafka's statistics
        text = pipeline.metrics()
    finally:
        feeder.halt.set()
        stop(process)
    assert pipeline.count() == len(track)
    assert sample_value(text, "iss_enricher_records_in_total") == len(track)
    assert sample_value(text, "iss_enricher_records_out_total") >= len(track)
    assert sample_value(text, 'iss_enricher_write_retries_total{table="positions"}') >= 1
    newest = max(p.event_time for p in track).timestamp()
    assert sample_value(
        text, "iss_enricher_last_committed_event_timestamp_seconds"
    ) == pytest.approx(newest)
    assert sample_value(text, "iss_enricher_end_to_end_latency_seconds_count") >= len(track)
    lag = f'iss_enricher_consumer_lag_messages{{partition="0",topic="{pipeline.raw}"}}'
    assert sample_value(text, lag) >= 0
    assert_windows_equal_positions(pipeline)


def test_prometheus_scrapes_throughput_freshness_and_lag_from_the_enricher(
    pipeline: Pipeline, prometheus: Any, enricher_log: Path
) -> None:
    track = [p.position for p in sgp4_track(TLE_EPOCH, 200, 1.0)]
    pipeline.produce(keyed(track))
    pipeline.produce([(b"25544", b"not json")])
    process = pipeline.start(log=enricher_log)
    job = f"enricher-{pipeline.group}"
    try:
        pipeline.wait_for_rows(len(track), 90, lambda: process.poll() is None)
        prometheus.add_target(job, f"127.0.0.1:{pipeline.metrics_port}")
        selector = f'job="{job}"'
        (records,) = prometheus.wait_for(f"iss_enricher_records_in_total{{{selector}}} == 201")
        assert records["metric"]["job"] == job
        rejected = prometheus.wait_for(
            f'iss_enricher_records_rejected_total{{{selector},reason="invalid_json"}} == 1'
        )
        assert len(rejected) == 1
        newest = max(p.event_time for p in track).timestamp()
        (fresh,) = prometheus.wait_for(
            f"iss_enricher_last_committed_event_timestamp_seconds{{{selector}}}"
        )
        assert float(fresh["value"][1]) == pytest.approx(newest)
        (lag,) = prometheus.wait_for(
            f'iss_enricher_consumer_lag_messages{{{selector},topic="{pipeline.raw}"}} == 0'
        )
        assert lag["metric"]["partition"] == "0"
    finally:
        prometheus.remove_target(job, f"127.0.0.1:{pipeline.metrics_port}")
        stop(process)


def test_a_kafka_outage_pauses_the_enricher_which_then_resumes(
    pipeline: Pipeline, kafka: Any, enricher_log: Path
) -> None:
    track = [p.position for p in sgp4_track(TLE_EPOCH, 200, 1.0)]
    before, after = track[:100], track[100:]
    process = pipeline.start(log=enricher_log)
    try:
        pipeline.produce(keyed(before))
        pipeline.wait_for_rows(len(before), 90, lambda: process.poll() is None)
        kafka.stop()
        try:
            time.sleep(3.0)
            assert process.poll() is None, "the enricher exited while Kafka was down"
        finally:
            kafka.start()
        pipeline.produce(keyed(after))
        pipeline.wait_for_rows(len(track), 120, lambda: process.poll() is None)
    finally:
        stop(process)
    assert pipeline.count() == len(track)
    speeds = pipeline.rows("SELECT count(*) FROM positions WHERE ground_speed_kmh IS NULL")
    assert speeds == [(1,)]
    assert_windows_equal_positions(pipeline)
    # The outage is one line when it starts and one when it ends, not a line per reconnect;
    # librdkafka's own lines go through the logger (no raw "%3|...|FAIL|" lines), and no
    # client was handed another kind's properties (no CONFWARN).
    log = enricher_log.read_text()
    assert log.count("Kafka broker unreachable") == 1, log[-3000:]
    assert log.count("Kafka broker reachable again") == 1, log[-3000:]
    assert "|FAIL|" not in log
    assert "CONFWARN" not in log
    refused = [line for line in log.splitlines() if "Connection refused" in line]
    assert len(refused) == 1  # the outage's own line names its first error


def start_and_cut_off_kafka(pipeline: Pipeline, kafka: Any, log: Path, **env: str) -> Any:
    """An enricher that stored a first track, then lost its broker."""
    pipeline.produce(keyed([p.position for p in sgp4_track(TLE_EPOCH, 50, 1.0)]))
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "iss_enricher"],
            env=pipeline.env(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    pipeline.wait_for_rows(50, 90, lambda: process.poll() is None)
    kafka.stop()
    time.sleep(2.0)
    assert process.poll() is None
    return process


def test_a_stop_signal_during_a_kafka_outage_ends_the_enricher_within_its_grace(
    pipeline: Pipeline, kafka: Any, enricher_log: Path
) -> None:
    process = start_and_cut_off_kafka(
        pipeline, kafka, enricher_log, ISS_ENRICHER_STOP_GRACE_SECONDS="4"
    )
    try:
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        status = process.wait(15)
        assert time.monotonic() - started < 7.0  # the grace (4 s), not the outage
        assert status in (0, 1)
    finally:
        kafka.start()
        stop(process)
    assert pipeline.count() == 50


def test_a_second_stop_signal_during_a_kafka_outage_exits_130_at_once(
    pipeline: Pipeline, kafka: Any, enricher_log: Path
) -> None:
    process = start_and_cut_off_kafka(
        pipeline, kafka, enricher_log, ISS_ENRICHER_STOP_GRACE_SECONDS="60"
    )
    try:
        process.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert process.poll() is None  # still stopping: the outage holds the drain
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(5) == 130
        assert time.monotonic() - started < 2.0
        assert "stopped at once by a second signal" in enricher_log.read_text()
    finally:
        kafka.start()
        stop(process)


def test_two_processes_share_the_partitions_and_store_every_row(
    pipeline: Pipeline, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    pipeline.raw = make_topic(2)
    satellites = [
        [replace(p.position, norad_id=norad_id) for p in sgp4_track(TLE_EPOCH, 150, 1.0)]
        for norad_id in range(25544, 25550)
    ]
    pipeline.produce(keyed([p for track in satellites for p in track]))
    total = sum(len(track) for track in satellites)
    ports = [free_port(), free_port()]
    addresses = ";".join(f"127.0.0.1:{port}" for port in ports)
    metrics_ports = [free_port(), free_port()]
    processes = [
        pipeline.start(
            "-i",
            str(i),
            "-a",
            addresses,
            "--metrics-port",
            str(metrics_ports[i]),
            log=tmp_path / f"enricher-{i}.log",
        )
        for i in range(2)
    ]
    try:
        pipeline.wait_for_rows(total, 120, lambda: all(p.poll() is None for p in processes))
        time.sleep(1.5)
        texts = []
        for port in metrics_ports:
            pipeline.metrics_port = port
            texts.append(pipeline.metrics())
    finally:
        for process in processes:
            stop(process)
    assert pipeline.count() == total
    # Each process read one of the two partitions.
    consumed = [sample_value(text, "iss_enricher_records_in_total") for text in texts]
    assert all(n > 0 for n in consumed)
    assert sum(consumed) == total
    # State is per satellite whichever process read it: one speedless first position each.
    assert pipeline.rows("SELECT count(*) FROM positions WHERE ground_speed_kmh IS NULL") == [(6,)]


def test_two_killed_processes_resume_from_their_recovery_stores_without_losing_rows(
    pipeline: Pipeline, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    pipeline.raw = make_topic(2)
    tracks = [
        [replace(p.position, norad_id=norad_id) for p in sgp4_track(TLE_EPOCH, 400, 1.0)]
        for norad_id in range(25544, 25550)
    ]
    interleaved = [position for moment in zip(*tracks, strict=True) for position in moment]
    feeder = Feeder(pipeline, interleaved, rate=150.0)
    feeder.start()
    addresses = ";".join(f"127.0.0.1:{free_port()}" for _ in range(2))

    def start_both() -> list[subprocess.Popen[bytes]]:
        return [
            pipeline.start(
                "-i", str(i), "-a", addresses, "-r", str(tmp_path / f"recovery-{i}"),
                "--metrics-port", str(free_port()), log=tmp_path / f"enricher-{i}.log",
            )
            for i in range(2)
        ]  # fmt: skip

    processes = start_both()
    try:
        pipeline.wait_for_rows(600, 60, lambda: all(p.poll() is None for p in processes))
        wait_for_snapshot([tmp_path / f"recovery-{i}" for i in range(2)])
        for process in processes:
            process.send_signal(signal.SIGKILL)
        for process in processes:
            process.wait(10)
        killed_at = pipeline.count()
        assert killed_at < len(interleaved), "the kill came too late to interrupt anything"
        time.sleep(2.0)
        processes = start_both()
        feeder.join(60)
        pipeline.wait_for_rows(
            len(interleaved), 120, lambda: all(p.poll() is None for p in processes)
        )
    finally:
        for process in processes:
            stop(process)
        for i in range(2):
            log = tmp_path / f"enricher-{i}.log"
            if log.exists():
                print(log.read_text()[-3000:])
    assert pipeline.count() == len(interleaved)
    # Every satellite's track survived the kill, whichever process held it.
    assert pipeline.rows("SELECT count(*) FROM positions WHERE ground_speed_kmh IS NULL") == [(6,)]
    # Both resumed from their snapshots, not from the start of the topic.
    published = pipeline.topic_values(pipeline.enriched, len(interleaved) + killed_at, timeout=10)
    assert len(interleaved) <= len(published) < len(interleaved) + killed_at


def test_after_an_input_stall_and_a_frozen_enricher_every_window_equals_its_positions(
    pipeline: Pipeline, enricher_log: Path
) -> None:
    # Ten-second windows, so that a 12 s stall outlasts every satellite's open window.
    tracks = [
        [replace(p.position, norad_id=norad_id) for p in sgp4_track(TLE_EPOCH, 300, 1.0)]
        for norad_id in range(25544, 25550)
    ]
    interleaved = [position for moment in zip(*tracks, strict=True) for position in moment]
    first, backlog, rest = interleaved[:600], interleaved[600:1200], interleaved[1200:]
    with enricher_log.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "iss_enricher"],
            env=pipeline.env(ISS_ENRICHER_WINDOW_SECONDS="10"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    feeder = Feeder(pipeline, rest, rate=150.0)
    try:
        pipeline.produce(keyed(first))
        pipeline.wait_for_rows(len(first), 60, lambda: process.poll() is None)
        # An input stall (the upstream holds its positions back): every satellite falls
        # silent, its open window closes by the clock, then the held-back positions arrive.
        time.sleep(12.0)
        pipeline.produce(keyed(backlog))
        pipeline.wait_for_rows(len(first) + len(backlog), 60, lambda: process.poll() is None)
        # The enricher itself frozen while positions keep coming, then thawed.
        feeder.start()
        time.sleep(1.0)
        process.send_signal(signal.SIGSTOP)
        time.sleep(12.0)
        process.send_signal(signal.SIGCONT)
        feeder.join(60)
        pipeline.wait_for_rows(len(interleaved), 120, lambda: process.poll() is None)
        time.sleep(1.0)
        text = pipeline.metrics()
        process.send_signal(signal.SIGINT)
        assert process.wait(20) == 0
    finally:
        feeder.halt.set()
        stop(process)
    assert pipeline.count() == len(interleaved)
    # The stall did close windows early: positions came in for closed windows...
    assert sample_value(text, "iss_enricher_late_for_aggregate_total") >= 6
    # ...and yet every window counts exactly its positions.
    assert assert_windows_equal_positions(pipeline, window_s=10) >= 6 * 30
    assert pipeline.rows("SELECT sum(samples)::int FROM positions_1m") == [(len(interleaved),)]
    assert sample_value(text, "iss_enricher_windows_recounted_total") >= 6
