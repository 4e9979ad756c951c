"""Enricher benchmark: Kafka -> enrichment -> PostgreSQL, next to a bare consume-then-COPY ceiling.

    python benchmarks/enricher_bench.py --messages 200000 --latency-seconds 60

Starts a throwaway Kafka broker and PostgreSQL server (iss_devstack) unless --bootstrap and
--admin-dsn point at running ones. Every run gets a fresh database and consumer group; all runs
read the same pre-filled topic. Prints one line per figure.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from confluent_kafka import Consumer, Producer

from iss_contract.raw import RawPosition
from iss_enricher.storage.sink import merge_staged

# tests.support is in the checkout, not among the installed packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.benchmarks import Services, catalogue, local_services, parse_with_smoke


def fill(services: Services, topic: str, messages: int, satellites: int) -> float:
    producer = Producer(
        {"bootstrap.servers": services.bootstrap, "linger.ms": 20, "compression.type": "lz4"}
    )
    started = time.perf_counter()
    for position in catalogue(messages, satellites):
        while True:
            try:
                producer.produce(topic, key=position.key, value=position.to_bytes())
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(120)
    return messages / (time.perf_counter() - started)


def row_count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM positions").fetchone()
        return int(row[0]) if row else 0


def ceiling(services: Services, topic: str, messages: int) -> float:
    """Consume raw records and COPY them into the same table, with no validation or enrichment.

    Text COPY into the staging table, then the enricher's own merge (`merge_staged`), so the
    database does the same work per row here as for the enricher.
    """
    dsn = services.database()
    consumer = Consumer(
        {
            "bootstrap.servers": services.bootstrap,
            "group.id": f"ceiling-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
        }
    )
    consumer.subscribe([topic])
    columns = (
        "norad_id, event_time, latitude, longitude, altitude_km, source, sequence,"
        " subsolar_latitude, subsolar_longitude, ground_daylight, local_solar_time_h"
    )
    done = 0
    started: float | None = None
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "CREATE TEMP TABLE positions_staging (LIKE positions INCLUDING DEFAULTS)"
            " ON COMMIT DELETE ROWS"
        )
        while done < messages:
            batch = [m for m in consumer.consume(5000, 1.0) if m.error() is None]
            if not batch:
                continue
            if started is None:
                started = time.perf_counter()
            with conn.cursor() as cur:
                with cur.copy(f"COPY positions_staging ({columns}) FROM STDIN".encode()) as copy:
                    for message in batch:
                        d = json.loads(message.value() or b"null")
                        copy.write_row(
                            (
                                d["norad_id"], d["event_time"], d["latitude"], d["longitude"],
                                d["altitude_km"], d["source"], d["sequence"], 0.0, 0.0, True, 0.0,
                            )
                        )  # fmt: skip
                merge_staged(cur)  # the enricher's own merge into `positions`
            conn.commit()
            done += len(batch)
    consumer.close()
    assert started is not None
    elapsed = time.perf_counter() - started
    assert row_count(dsn) == messages
    return messages / elapsed


def enricher_env(services: Services, topic: str, dsn: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ISS_ENRICHER_BOOTSTRAP_SERVERS=services.bootstrap,
        ISS_ENRICHER_RAW_TOPIC=topic,
        ISS_ENRICHER_ENRICHED_TOPIC=f"{topic}-enriched",
        ISS_ENRICHER_DEADLETTER_TOPIC=f"{topic}-deadletter",
        ISS_ENRICHER_DATABASE_DSN=dsn,
        ISS_ENRICHER_CONSUMER_GROUP=f"bench-{uuid.uuid4().hex[:6]}",
        ISS_ENRICHER_METRICS_PORT="0",
        ISS_ENRICHER_LOG_LEVEL="WARNING",
        # Catalogue data is from the past: nothing may count as "from the future".
        ISS_ENRICHER_MAX_FUTURE_SECONDS="86400000",
    )
    env.update(extra)
    return env


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def free_ports(count: int) -> list[int]:
    from iss_devstack.procs import free_port

    return [free_port() for _ in range(count)]


def enricher(
    services: Services, topic: str, messages: int, processes: int, timeout: float
) -> tuple[float, float, list[tuple[float, float]]]:
    """Run `processes` enricher processes over the filled topic.

    Returns (steady msg/s from first to last stored row, wall msg/s from launch, RSS per process).
    """
    dsn = services.database()
    env = enricher_env(services, topic, dsn)
    ports = free_ports(processes)
    addresses = ";".join(f"127.0.0.1:{p}" for p in ports)
    argv = [sys.executable, "-m", "iss_enricher"]
    launched = time.perf_counter()
    procs = [
        subprocess.Popen(
            argv + (["-i", str(i), "-a", addresses] if processes > 1 else []),
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for i in range(processes)
    ]
    first: float | None = None
    try:
        while True:
            count = row_count(dsn)
            now = time.perf_counter()
            if count and first is None:
                first_count, first = count, now
            if count >= messages:
                break
            if now - launched > timeout:
                raise TimeoutError(f"{count} of {messages} rows after {timeout} s")
            for p in procs:
                if p.poll() is not None:
                    raise RuntimeError(f"enricher exited with {p.returncode}")
            time.sleep(0.2)
        finished = time.perf_counter()
        memory = [rss_mib(p.pid) for p in procs]
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
    assert first is not None
    steady = (messages - first_count) / max(finished - first, 1e-9)
    return steady, messages / (finished - launched), memory


def latency(services: Services, seconds: int) -> list[float]:
    """Send one position a second; time from send to the row being visible in the database."""
    topic = services.topic(1)
    dsn = services.database()
    proc = subprocess.Popen(
        [sys.executable, "-m", "iss_enricher"],
        env=enricher_env(services, topic, dsn),
        stdout=subprocess.DEVNULL,
    )
    sent: dict[int, float] = {}
    seen: dict[int, float] = {}
    stop = threading.Event()

    def poll() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            newest = -1
            while not stop.is_set():
                rows = conn.execute(
                    "SELECT sequence FROM positions WHERE sequence > %s", (newest,)
                ).fetchall()
                now = time.time()
                for (sequence,) in rows:
                    seen.setdefault(int(sequence), now)
                    newest = max(newest, int(sequence))
                time.sleep(0.005)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    producer = Producer({"bootstrap.servers": services.bootstrap, "linger.ms": 0})
    try:
        time.sleep(5.0)  # let the dataflow start and assign its partition
        for i in range(seconds):
            now = datetime.now(UTC)
            position = RawPosition(
                norad_id=25544,
                event_time=now,
                latitude=0.0,
                longitude=-180.0 + i * 0.0625,
                source="sgp4",
                producer_id="bench",
                sequence=i,
                produced_at=now,
                altitude_km=420.0,
            )
            sent[i] = time.time()
            producer.produce(topic, key=position.key, value=position.to_bytes())
            producer.poll(0)
            time.sleep(max(0.0, sent[i] + 1.0 - time.time()))
        producer.flush(10)
        time.sleep(3.0)
    finally:
        stop.set()
        poller.join(5)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            print("latency run: the enricher did not stop within 20 s of SIGINT; killed it")
            proc.kill()
            proc.wait()
    return [seen[i] - sent[i] for i in sent if i in seen]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(services: Services, args: argparse.Namespace) -> None:
    print(f"load average before: {os.getloadavg()}, cpus: {os.cpu_count()}")
    topic = services.topic(args.partitions)
    rate = fill(services, topic, args.messages, args.satellites)
    print(f"filled {topic}: {args.messages} messages, {args.satellites} satellites, "
          f"{args.partitions} partitions ({rate:,.0f} msg/s produced)")  # fmt: skip
    top = ceiling(services, topic, args.messages)
    print(f"ceiling (consume + json + COPY, no enrichment): {top:,.0f} msg/s")
    for processes in (1, 2):
        steady, wall, memory = enricher(
            services, topic, args.messages, processes, timeout=args.timeout
        )
        rss = ", ".join(f"{now:.0f} MiB (peak {peak:.0f})" for now, peak in memory)
        print(
            f"enricher x{processes}: {steady:,.0f} msg/s steady, {wall:,.0f} msg/s incl. start-up "
            f"({steady / top:.0%} of ceiling); RSS after {args.messages} messages: {rss}"
        )
    if args.latency_seconds:
        samples = latency(services, args.latency_seconds)
        print(
            f"end-to-end latency at 1 Hz, send -> row visible ({len(samples)} samples): "
            f"p50 {statistics.median(samples) * 1000:.0f} ms, "
            f"p99 {percentile(samples, 0.99) * 1000:.0f} ms, max {max(samples) * 1000:.0f} ms"
        )
    print(f"load average after: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--satellites", type=int, default=5_000)
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--latency-seconds", type=int, default=60)
    parser.add_argument("--timeout", type=float, default=600.0, help="per enricher run")
    parser.add_argument("--bootstrap", help="use this running Kafka")
    parser.add_argument("--admin-dsn", help="use this running PostgreSQL (a superuser DSN)")
    args = parse_with_smoke(parser, messages=2_000, satellites=50, latency_seconds=3, timeout=180.0)
    if args.bootstrap and args.admin_dsn:
        run(Services(args.bootstrap, args.admin_dsn), args)
    else:
        with local_services() as services:
            run(services, args)


if __name__ == "__main__":
    main()
