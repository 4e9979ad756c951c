"""Throughput over SASL_SSL + SCRAM-SHA-512 next to plaintext, in one run, on one broker.

    python benchmarks/kafka_security_bench.py --messages 200000

Starts a throwaway Kafka broker (iss_devstack) with a plaintext listener and a SASL_SSL one
(SCRAM-SHA-512, ACLs; certificates made for the run) and a PostgreSQL server. For each listener:
the producer's librdkafka configuration (iss_producer.publisher.kafka_config) sends the same raw
positions as fast as it can; then a fresh `iss-enricher` reads them to the end
(ISS_ENRICHER_KAFKA_TAIL=false) into a fresh database. Plaintext and SASL_SSL rounds alternate
(`--rounds`, 3): the machine is shared, so the medians and their ratio are what to read.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclOperation,
    ResourceType,
)

from iss_contract.raw import RawPosition
from iss_devstack.postgres import Postgres
from iss_devstack.settings import DevstackSettings
from iss_enricher.storage.schema import migrate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

from iss_producer.publisher import kafka_config
from iss_producer.settings import ProducerSettings
from tests.support.benchmarks import parse_with_smoke
from tests.support.kafka_security import start_secure_kafka

EPOCH = datetime(2026, 9, 16, tzinfo=UTC)
USER, PASSWORD = "bench", "bench-password"
SATELLITES = 1000


def positions(messages: int) -> list[RawPosition]:
    return [
        RawPosition(
            norad_id=10000 + i % SATELLITES,
            event_time=EPOCH + timedelta(seconds=i // SATELLITES),
            latitude=(i % SATELLITES * 7.3) % 140.0 - 70.0,
            longitude=((i % SATELLITES * 13.1) % 360.0) - 180.0,
            source="sgp4",
            producer_id="bench",
            sequence=i,
            produced_at=EPOCH + timedelta(seconds=i // SATELLITES),
            altitude_km=420.0,
        )
        for i in range(messages)
    ]


def produce(config: dict[str, object], topic: str, values: list[RawPosition]) -> float:
    producer = Producer({**config, "linger.ms": 20})
    # Warm up: connections, the login, the idempotent producer id; not timed.
    producer.produce(topic, key=values[0].key, value=values[0].to_bytes())
    assert producer.flush(60) == 0
    started = time.perf_counter()
    for position in values:
        while True:
            try:
                producer.produce(topic, key=position.key, value=position.to_bytes())
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    assert producer.flush(300) == 0
    return len(values) / (time.perf_counter() - started)


def enrich(bootstrap: str, topic: str, dsn: str, group: str, messages: int, **extra: str) -> float:
    migrate(dsn)
    env = {
        **os.environ,
        "ISS_ENRICHER_BOOTSTRAP_SERVERS": bootstrap,
        "ISS_ENRICHER_RAW_TOPIC": topic,
        "ISS_ENRICHER_ENRICHED_TOPIC": f"{topic}-enriched",
        "ISS_ENRICHER_DEADLETTER_TOPIC": f"{topic}-deadletter",
        "ISS_ENRICHER_DATABASE_DSN": dsn,
        "ISS_ENRICHER_CONSUMER_GROUP": group,
        "ISS_ENRICHER_METRICS_PORT": "0",
        "ISS_ENRICHER_LOG_LEVEL": "WARNING",
        "ISS_ENRICHER_KAFKA_TAIL": "false",
        "ISS_ENRICHER_MAX_FUTURE_SECONDS": "86400000",
        **extra,
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "iss_enricher"], env=env, capture_output=True, text=True,
        timeout=900, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"iss-enricher failed:\n{done.stderr[-3000:]}")
    return messages / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating plaintext/SASL_SSL rounds; medians"
    )
    args = parse_with_smoke(parser, messages=2_000, rounds=1)
    settings = DevstackSettings()
    work = Path(tempfile.mkdtemp(prefix="iss-kafka-security-bench-"))
    secured = start_secure_kafka(work)
    kafka, certificates = secured.broker, secured.certificates
    postgres = Postgres.for_tests(settings, work / "postgres")
    postgres.start()
    try:
        values = positions(args.messages)
        secured.add_user(USER, PASSWORD)
        secure = {
            "ISS_ENRICHER_KAFKA_USERNAME": USER,
            "ISS_ENRICHER_KAFKA_PASSWORD": PASSWORD,
            "ISS_ENRICHER_KAFKA_SSL_CA_LOCATION": str(certificates.ca),
        }
        results: dict[str, dict[str, list[float]]] = {
            mode: {"producer": [], "enricher": []} for mode in ("plaintext", "sasl_ssl")
        }
        for mode in ("plaintext", "sasl_ssl") * args.rounds:
            suffix = uuid.uuid4().hex[:8]
            topic, group = f"bench-{mode}-{suffix}", f"bench-{suffix}"
            for name in (topic, f"{topic}-enriched", f"{topic}-deadletter"):
                kafka.create_topic(name, 3)
            if mode == "plaintext":
                bootstrap, extra, producer = (
                    kafka.bootstrap,
                    {},
                    ProducerSettings(bootstrap_servers=kafka.bootstrap),
                )
            else:
                for name in (topic, f"{topic}-enriched", f"{topic}-deadletter"):
                    secured.allow(USER, name, AclOperation.ALL)
                secured.allow(USER, group, AclOperation.ALL, resource=ResourceType.GROUP)
                bootstrap, extra = kafka.secure_bootstrap, secure
                producer = ProducerSettings(
                    bootstrap_servers=bootstrap, kafka_username=USER, kafka_password=PASSWORD,
                    kafka_ssl_ca_location=certificates.ca,
                )  # fmt: skip
            produced = produce(kafka_config(producer), topic, values)
            # The enricher's fixed cost (start-up, login, the end of the topic) from a run over
            # an empty topic, then the full run; the rate is over the difference.
            empty = f"{topic}-empty"
            kafka.create_topic(empty, 3)
            if mode != "plaintext":
                secured.allow(USER, empty, AclOperation.ALL)
                secured.allow(USER, group, AclOperation.ALL, resource=ResourceType.GROUP)
            overhead = 1 / enrich(
                bootstrap, empty, postgres.create_database(f"bench_e_{mode}_{suffix}"), group, 1,
                **extra,
            )  # fmt: skip
            dsn = postgres.create_database(f"bench_{mode}_{suffix}")
            total = args.messages / enrich(bootstrap, topic, dsn, group, args.messages, **extra)
            enriched = args.messages / max(total - overhead, 1e-3)
            results[mode]["producer"].append(produced)
            results[mode]["enricher"].append(enriched)
            print(
                f"{mode:9s} producer {produced:10.0f} msg/s   enricher {enriched:8.0f} msg/s "
                f"({total:.1f} s, of which {overhead:.1f} s fixed)"
            )
        for part in ("producer", "enricher"):
            secured = statistics.median(results["sasl_ssl"][part])
            plain = statistics.median(results["plaintext"][part])
            print(
                f"{part}: median {secured:.0f} vs {plain:.0f} msg/s, "
                f"SASL_SSL + SCRAM / plaintext = {secured / plain:.2f}"
            )
    finally:
        postgres.discard()
        kafka.stop()


if __name__ == "__main__":
    main()
