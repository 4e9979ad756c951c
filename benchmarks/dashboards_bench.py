"""Dashboard query benchmark: every "ISS live" SQL query over 30 days of 1 Hz positions.

    .venv/bin/python benchmarks/dashboards_bench.py --start-server
    .venv/bin/python benchmarks/dashboards_bench.py --dsn postgresql://postgres@127.0.0.1:15432/postgres

Loads ``--days`` of SGP4-propagated positions at 1 Hz (30 days: 2,592,000 rows) and their
one-minute aggregates into a scratch database with binary COPY, using the enricher's own
migrations, runs ANALYZE, then times each query of the dashboard (variables and Grafana macros
expanded as Grafana would) ``--runs`` times after one warm-up run. It prints the median, min
and max in milliseconds for the dashboard's default range (2 h) and for the whole 30 days,
and marks any median over the 50 ms goal. "server" is the execution time PostgreSQL reports
for one more run (EXPLAIN ANALYZE), without the client's share of the round trip. The scratch
database is dropped afterwards.

``--start-server`` runs a throwaway PostgreSQL of the local installation (iss_devstack) on a
free port for the duration of the benchmark; otherwise ``--dsn`` names a maintenance database
on a running server (default: the ``make up`` port).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

# tests.support is in the checkout, not among the installed packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from iss_dashboards.build import default_output_dir
from iss_dashboards.defaults import ISS_NORAD_ID, POSTGRES_TYPE
from iss_dashboards.iss_live_dashboard import OUTPUT
from iss_dashboards.macros import QueryContext, expand_sql
from iss_enricher.storage.schema import migrate
from tests.support import sampletrack
from tests.support.benchmarks import parse_with_smoke

REPO_ROOT = Path(__file__).resolve().parents[1]
GOAL_MS = 50.0
SCRATCH_DB = "iss_dashboards_bench"
DAY_S = 86400


@dataclass(frozen=True)
class Timing:
    name: str
    range_label: str
    rows: int
    millis: list[float]
    server_ms: float

    @property
    def median(self) -> float:
        return statistics.median(self.millis)


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel / refId, SQL) of every PostgreSQL query of the committed ISS live dashboard."""
    data = json.loads((default_output_dir() / OUTPUT).read_text(encoding="utf-8"))
    found = [
        ("$satellite variable", v["query"])
        for v in data["templating"]["list"]
        if v["type"] == "query"
    ]
    for panel in data["panels"]:
        for target in panel.get("targets", []):
            if target["datasource"]["type"] == POSTGRES_TYPE:
                found.append((f"{panel['title']} / {target['refId']}", target["rawSql"]))
    return found


@contextmanager
def server(args: argparse.Namespace) -> Iterator[str]:
    """The maintenance DSN of the server to use, started here if asked to."""
    if not args.start_server:
        yield args.dsn
        return
    from iss_devstack.postgres import Postgres
    from iss_devstack.settings import DevstackSettings

    with tempfile.TemporaryDirectory(prefix="iss-dash-bench-") as tmp:
        postgres = Postgres.for_tests(DevstackSettings(), Path(tmp))
        postgres.start()
        try:
            yield postgres.admin_dsn
        finally:
            postgres.stop()


def scratch_dsn(admin_dsn: str) -> str:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")
        conn.execute(f"CREATE DATABASE {SCRATCH_DB}")
    return make_conninfo(admin_dsn, dbname=SCRATCH_DB)


def load(dsn: str, days: int) -> tuple[datetime, int]:
    """Propagate and COPY ``days`` of 1 Hz data ending at a whole minute; return (end, rows)."""
    migrate(dsn)
    tle = sampletrack.find_tle(REPO_ROOT, ISS_NORAD_ID)
    end_unix = (int(time.time()) // 60) * 60
    start_unix = end_unix - days * DAY_S
    rows = 0
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        for day in range(days):
            track = sampletrack.propagate(tle, start_unix + day * DAY_S, DAY_S)
            sampletrack.load(conn, track)
            rows += len(track)
            print(f"  loaded day {day + 1}/{days} ({rows:,} rows)", file=sys.stderr)
    print(f"loaded {rows:,} rows in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE positions")
        conn.execute("VACUUM ANALYZE positions_1m")
    return datetime.fromtimestamp(end_unix - 1, UTC), rows


def time_query(
    dsn: str, name: str, sql: str, context: QueryContext, label: str, runs: int
) -> Timing:
    expanded = expand_sql(sql, context).encode()
    millis: list[float] = []
    rows = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        for run in range(runs + 1):
            started = time.perf_counter()
            result: list[Any] = conn.execute(expanded).fetchall()
            elapsed = (time.perf_counter() - started) * 1000.0
            rows = len(result)
            if run:  # the first run warms the cache
                millis.append(elapsed)
        plan = conn.execute(b"EXPLAIN (ANALYZE, FORMAT JSON) " + expanded).fetchone()
    server_ms = float(plan[0][0]["Execution Time"]) if plan else float("nan")
    return Timing(name, label, rows, millis, server_ms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:15432/postgres")
    parser.add_argument("--start-server", action="store_true")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parse_with_smoke(parser, argv, days=1, runs=1, start_server=True)

    timings: list[Timing] = []
    with server(args) as admin_dsn:
        dsn = scratch_dsn(admin_dsn)
        try:
            end, rows = load(dsn, args.days)
            ranges = {
                "2h (default)": timedelta(hours=2),
                f"{args.days}d": timedelta(days=args.days),
            }
            for label, span in ranges.items():
                context = QueryContext(
                    time_from=end + timedelta(seconds=1) - span,
                    time_to=end + timedelta(seconds=1),
                    # Grafana's interval for a ~1,000-pixel-wide panel.
                    interval=max(timedelta(seconds=1), span / 1000),
                    variables={"satellite": str(ISS_NORAD_ID)},
                )
                for name, sql in dashboard_queries():
                    timings.append(time_query(dsn, name, sql, context, label, args.runs))
        finally:
            if not args.keep:
                with psycopg.connect(admin_dsn, autocommit=True) as conn:
                    conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")

    print(f"\n{rows:,} rows in positions, {args.runs} timed runs per query after one warm-up\n")
    print(
        f"{'query':<44} {'range':<13} {'rows':>6} {'median':>8} {'min':>7} {'max':>7} {'server':>8}"
    )
    slow = 0
    for t in timings:
        flag = "" if t.median < GOAL_MS else f"  over {GOAL_MS:g} ms"
        slow += bool(flag)
        print(
            f"{t.name:<44} {t.range_label:<13} {t.rows:>6} {t.median:>6.2f}ms "
            f"{min(t.millis):>5.2f}ms {max(t.millis):>5.2f}ms {t.server_ms:>6.2f}ms{flag}"
        )
    print(f"\n{len(timings) - slow} of {len(timings)} medians under {GOAL_MS:g} ms")
    # A smoke run times each query once on a shared machine: a miss there is noise, not news.
    return 1 if slow and not args.smoke else 0


if __name__ == "__main__":
    sys.exit(main())
