"""Costs of the enricher's parts, per record: decoding, encoding, and the database merge.

    python benchmarks/enricher_parts_bench.py

Decoding: `parse_raw` on well-formed records (msgspec's typed decoder) next to the field-by-field
path every record would take without it (`json.loads` + `from_dict`). Encoding: an enriched
position's `to_bytes` on objects fresh from decoding (nothing cached). Database: rows of 2,000-row
batches COPYed into the staging table and merged into `positions` with a plain INSERT and with
INSERT ... ON CONFLICT DO NOTHING, on a throwaway durable PostgreSQL (or --admin-dsn). Best of
several rounds, microseconds per record.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

# tests.support is in the checkout, not among the installed packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from iss_contract import columns
from iss_contract.validate import from_dict, parse_raw
from iss_enricher.enrich import enrich_position
from iss_enricher.storage import sink
from tests.support.benchmarks import Services, catalogue, local_services, parse_with_smoke

FAR = timedelta(days=100_000)  # catalogue data is from the past: nothing counts as future


def best_us(records: int, rounds: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best / records * 1e6


def codec(records: int, rounds: int) -> None:
    values = [p.to_bytes() for p in catalogue(records, 5000)]
    now = datetime.now(UTC)
    typed = best_us(
        records, rounds, lambda: [parse_raw(v, now=now, max_future=FAR) for v in values]
    )
    generic = best_us(
        records, rounds, lambda: [from_dict(json.loads(v), now=now, max_future=FAR) for v in values]
    )
    print(f"decode + validate, typed decoder:          {typed:5.2f} us/record")
    print(f"decode + validate, field by field:         {generic:5.2f} us/record")

    def fresh_encode() -> None:
        positions = [parse_raw(v, now=now, max_future=FAR) for v in values]
        enriched = [
            enrich_position(p, ground_speed_kmh=1.0, heading_deg=2.0, enriched_at=now)
            for p in positions
        ]
        started = time.perf_counter()
        for position in enriched:
            position.to_bytes()
        timings.append(time.perf_counter() - started)

    timings: list[float] = []
    for _ in range(rounds):
        fresh_encode()
    print(
        f"enriched message to_bytes (fresh objects): {min(timings) / records * 1e6:5.2f} us/record"
    )


def merge(services: Services, records: int, rounds: int, batch: int) -> None:
    now = datetime.now(UTC)
    rows = [
        sink.position_row(
            enrich_position(p, ground_speed_kmh=1.0, heading_deg=2.0, enriched_at=now)
        )
        for p in catalogue(records, 5000)
    ]
    for statement, label in (
        (sink._INSERT_STAGING, "plain INSERT"),
        (sink._MERGE_STAGING, "ON CONFLICT"),
    ):
        copy_s = insert_s = commit_s = float("inf")
        for _ in range(rounds):
            dsn = services.database()
            with psycopg.connect(dsn) as conn:
                sink._prepare_positions(conn)
                conn.commit()
                c = i = m = 0.0
                for start in range(0, len(rows), batch):
                    t0 = time.perf_counter()
                    with conn.cursor() as cur:
                        with cur.copy(sink._COPY_STAGING) as copy:
                            copy.set_types(columns.POSITION_TYPES)
                            for row in rows[start : start + batch]:
                                copy.write_row(row)
                        t1 = time.perf_counter()
                        cur.execute(statement)
                        t2 = time.perf_counter()
                    conn.commit()
                    t3 = time.perf_counter()
                    c, i, m = c + t1 - t0, i + t2 - t1, m + t3 - t2
            copy_s, insert_s, commit_s = min(copy_s, c), min(insert_s, i), min(commit_s, m)
        per = 1e6 / len(rows)
        print(
            f"merge with {label:12s}: COPY to staging {copy_s * per:5.2f},"
            f" merge {insert_s * per:5.2f}, COMMIT {commit_s * per:5.2f} us/row"
            f" ({batch}-row batches, {len(rows):,} rows)"
        )


@contextmanager
def services_from(args: argparse.Namespace) -> Iterator[Services]:
    if args.admin_dsn:
        yield Services("", args.admin_dsn)
    else:
        with local_services() as services:
            yield services


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=200_000, help="rows for the merge figures")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--admin-dsn", help="use this running PostgreSQL (a superuser DSN)")
    args = parse_with_smoke(parser, records=2_000, rows=4_000, rounds=1, batch=500)
    codec(args.records, args.rounds)
    with services_from(args) as services:
        merge(services, args.rows, min(args.rounds, 3), args.batch)


if __name__ == "__main__":
    main()
