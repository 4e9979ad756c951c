"""What the enricher benchmarks share: a Kafka and a durable PostgreSQL of their own, databases
and topics on them, and a catalogue of satellites that report once a second."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from iss_contract.raw import RawPosition
from iss_enricher.storage.schema import migrate
from tests.support.ports import free_port

EPOCH = datetime(2026, 9, 16, 0, 0, tzinfo=UTC)


@dataclass
class Services:
    bootstrap: str
    admin_dsn: str

    def database(self) -> str:
        name = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        dsn = self.admin_dsn.rsplit("/", 1)[0] + f"/{name}"
        migrate(dsn)
        return dsn

    def topic(self, partitions: int) -> str:
        name = f"bench-{uuid.uuid4().hex[:8]}"
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        futures = admin.create_topics([NewTopic(name, partitions, 1)], operation_timeout=30)
        for future in futures.values():
            future.result(60)
        return name


@contextmanager
def local_services() -> Iterator[Services]:
    from iss_devstack.kafka import Kafka
    from iss_devstack.postgres import Postgres
    from iss_devstack.settings import DevstackSettings

    settings = DevstackSettings()
    root = Path(tempfile.mkdtemp(prefix="enricher-bench-"))
    root.chmod(0o755)
    kafka = Kafka.for_tests(settings, root / "kafka")
    # Durable (fsync on), like a real deployment, unlike the test fixture's throwaway server.
    postgres = Postgres(settings, root / "pg" / "pgdata", free_port(), durable=True)
    kafka.start()
    postgres.start()
    try:
        yield Services(kafka.bootstrap, postgres.admin_dsn)
    finally:
        postgres.stop()
        kafka.stop()
        shutil.rmtree(root, ignore_errors=True)


def catalogue(messages: int, satellites: int) -> Iterator[RawPosition]:
    """`satellites` objects reporting once a second, spread around the globe."""
    for i in range(messages):
        sat, second = i % satellites, i // satellites
        yield RawPosition(
            norad_id=10000 + sat,
            event_time=EPOCH + timedelta(seconds=second),
            latitude=(sat * 7.3) % 140.0 - 70.0,
            longitude=((sat * 13.1 + second * 0.0625) % 360.0) - 180.0,
            source="sgp4",
            producer_id="bench",
            sequence=i,
            produced_at=EPOCH + timedelta(seconds=second),
            altitude_km=400.0 + sat % 200,
        )


def parse_with_smoke(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None = None, **tiny: object
) -> argparse.Namespace:
    """Parse a benchmark's arguments, with `--smoke`: the `tiny` values instead of the given
    ones, so the whole benchmark runs in seconds (`make test` runs every benchmark that way, so
    none can break unnoticed; its figures mean nothing)."""
    sizes = " ".join(f"--{name.replace('_', '-')} {value}" for name, value in tiny.items())
    parser.add_argument(
        "--smoke", action="store_true", help=f"a check that it runs, in seconds ({sizes})"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        for name, value in tiny.items():
            setattr(args, name, value)
        print(f"smoke run: {sizes}; the figures below only show that it runs", flush=True)
    return args
