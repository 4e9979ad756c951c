"""Producer benchmark: constellation throughput on one core, and single-ISS tick-to-ack latency.

    .venv/bin/python benchmarks/producer_bench.py [--bootstrap 127.0.0.1:19092]

Phase 1 propagates a synthetic catalogue (the shipped ISS TLE with its mean anomaly and RAAN
spread out, checksums recomputed) with SatrecArray and publishes every position, ticks back to
back, for a bounded time; it reports acknowledged positions per second (including the final
flush), CPU and resident memory. The whole process, librdkafka's threads included, is pinned
to one core. Phase 2 publishes the ISS alone from SGP4 and reports the time from the start of
a tick to the broker's acknowledgement. Both phases write to fresh topics, deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from iss_physics.tle import find, read_tle_file
from iss_producer.constellation import Constellation
from iss_producer.metrics import Health, ProducerMetrics
from iss_producer.publisher import Publisher
from iss_producer.service import ProducerService
from iss_producer.settings import DEFAULT_TLE_FILE, Mode, ProducerSettings
from iss_producer.sources.sgp4_source import Sgp4Source

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

from tests.support.benchmarks import parse_with_smoke
from tests.support.catalogue import synthetic_catalogue


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _service(settings: ProducerSettings, constellation: Constellation | None) -> ProducerService:
    metrics = ProducerMetrics(settings.sources)
    health = Health(600.0, 600.0)
    publisher = Publisher(settings, metrics, health)
    sgp4 = Sgp4Source(find(read_tle_file(settings.tle_file), settings.norad_id))
    return ProducerService(settings, publisher, metrics, health, sgp4, constellation=constellation)


def bench_constellation(
    bootstrap: str, topic: str, satellites: int, seconds: float
) -> dict[str, float]:
    iss = find(read_tle_file(DEFAULT_TLE_FILE), 25544)
    constellation = Constellation(synthetic_catalogue(iss, satellites))
    settings = ProducerSettings(
        bootstrap_servers=bootstrap,
        topic=topic,
        mode=Mode.CONSTELLATION,
        sources=["sgp4"],
        producer_id="bench",
        linger_ms=50,
        queue_max_messages=500_000,
    )
    service = _service(settings, constellation)
    publisher = service.publisher
    # Warm-up: connection, idempotent producer id, first batches.
    service.tick()
    assert publisher.flush(60) == 0
    base_acked = publisher.acknowledged

    # Propagation alone (SatrecArray + vectorised TEME -> geodetic), for comparison.
    started = time.perf_counter()
    for _ in range(5):
        constellation.propagate(datetime.now(UTC))
    propagate_s = (time.perf_counter() - started) / 5

    cpu0, wall0 = _cpu_s(), time.monotonic()
    ticks = 0
    while time.monotonic() - wall0 < seconds:
        service.tick()
        ticks += 1
    remaining = publisher.flush(120)
    wall = time.monotonic() - wall0
    cpu = _cpu_s() - cpu0
    acked = publisher.acknowledged - base_acked
    return {
        "satellites": satellites,
        "ticks": ticks,
        "acknowledged": acked,
        "unflushed": remaining,
        "delivery_failures": publisher.failed,
        "backpressure_waits": publisher.backpressure_waits,
        "wall_s": round(wall, 2),
        "positions_per_s": round(acked / wall),
        "propagation_only_positions_per_s": round(satellites / propagate_s),
        "cpu_s": round(cpu, 2),
        "cpu_percent_of_one_core": round(100.0 * cpu / wall, 1),
        "rss_mb": round(_rss_mb(), 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def bench_single(bootstrap: str, topic: str, ticks: int, linger_ms: int) -> dict[str, float]:
    settings = ProducerSettings(
        bootstrap_servers=bootstrap,
        topic=topic,
        sources=["sgp4"],
        producer_id="bench-single",
        linger_ms=linger_ms,
    )
    service = _service(settings, None)
    publisher = service.publisher
    service.tick()
    assert publisher.flush(60) == 0
    latencies_ms: list[float] = []
    for _ in range(ticks):
        before = publisher.acknowledged
        started = time.monotonic()
        service.tick()
        deadline = started + 10.0
        while publisher.acknowledged == before and time.monotonic() < deadline:
            publisher.poll(0.0005)
        if publisher.acknowledged == before or publisher.last_ack_monotonic is None:
            raise SystemExit("no acknowledgement within 10 s")
        latencies_ms.append((publisher.last_ack_monotonic - started) * 1000.0)
        time.sleep(0.02)
    latencies_ms.sort()
    return {
        "ticks": ticks,
        "linger_ms": linger_ms,
        "median_tick_to_ack_ms": round(statistics.median(latencies_ms), 2),
        "p95_tick_to_ack_ms": round(latencies_ms[int(0.95 * (len(latencies_ms) - 1))], 2),
        "max_tick_to_ack_ms": round(latencies_ms[-1], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--bootstrap", help="Kafka bootstrap, HOST:PORT (default: start a local broker)"
    )
    parser.add_argument("--satellites", type=int, default=30_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="constellation phase length")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--single-ticks", type=int, default=200)
    parser.add_argument("--cpu", type=int, default=None, help="core to pin to (default: first)")
    args = parse_with_smoke(parser, satellites=500, seconds=2.0, single_ticks=20)

    broker = None
    if args.bootstrap is None:
        # Started before pinning, so the broker's JVM keeps both cores.
        from iss_devstack.kafka import Kafka
        from iss_devstack.settings import DevstackSettings

        data = Path(tempfile.mkdtemp(prefix="iss-bench-kafka-"))
        broker = Kafka.for_tests(DevstackSettings(), data)
        broker.start()
        args.bootstrap = broker.bootstrap
    try:
        return run(args)
    finally:
        if broker is not None:
            broker.stop()
            shutil.rmtree(broker.data_dir, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    core = args.cpu if args.cpu is not None else min(os.sched_getaffinity(0))
    # Threads inherit the affinity: set it before librdkafka starts its threads.
    os.sched_setaffinity(0, {core})

    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    run_id = uuid.uuid4().hex[:8]
    topics = [f"bench-constellation-{run_id}", f"bench-single-{run_id}"]
    futures = admin.create_topics(
        [NewTopic(t, num_partitions=args.partitions, replication_factor=1) for t in topics]
    )
    for future in futures.values():
        future.result(timeout=60)
    try:
        print(f"pinned to core {core}; topics {topics}", file=sys.stderr)
        results = {
            "constellation": bench_constellation(
                args.bootstrap, topics[0], args.satellites, args.seconds
            ),
            "single": bench_single(args.bootstrap, topics[1], args.single_ticks, 5),
            "single_linger_0": bench_single(args.bootstrap, topics[1], args.single_ticks, 0),
        }
    finally:
        for future in admin.delete_topics(topics).values():
            future.result(timeout=60)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
