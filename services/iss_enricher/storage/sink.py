"""Idempotent, outage-proof batch writers for the positions and aggregate tables.

Each Bytewax worker owns one connection. A batch is written in one transaction; when the
database is unreachable the writer keeps the batch, backs off and tries again, so the dataflow
stalls (backpressure) instead of dropping rows or crash-looping. Replays are harmless: positions
are inserted with ON CONFLICT DO NOTHING and aggregates are upserted.

An aggregate row is written two ways. A window counted in memory is upserted when it closes, but
never over a row with more samples (a recount that already saw more). A window with late
positions is recounted from `positions` in the transaction that stores them, and the recount
replaces the row: it is the truth.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import psycopg
import tenacity
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from iss_contract.columns import AGGREGATE_COLUMNS, POSITION_COLUMNS, POSITION_TYPES
from iss_contract.enriched import EnrichedPosition
from iss_enricher import metrics
from iss_enricher.aggregate import WindowAggregate

logger = logging.getLogger(__name__)

T = TypeVar("T")

_COLUMN_LIST = ", ".join(POSITION_COLUMNS)
_CREATE_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS positions_staging"
    " (LIKE positions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_COPY_STAGING = f"COPY positions_staging ({_COLUMN_LIST}) FROM STDIN (FORMAT BINARY)"
_INSERT_STAGING = (
    f"INSERT INTO positions ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM positions_staging"
)
_MERGE_STAGING = f"{_INSERT_STAGING} ON CONFLICT (norad_id, event_time) DO NOTHING"
_AGGREGATE_LIST = ", ".join(AGGREGATE_COLUMNS)
_AGGREGATE_REPLACE = ",\n    ".join(f"{name} = EXCLUDED.{name}" for name in AGGREGATE_COLUMNS[2:])
_UPSERT_AGGREGATE = f"""
INSERT INTO positions_1m ({_AGGREGATE_LIST})
VALUES ({", ".join(["%s"] * len(AGGREGATE_COLUMNS))})
ON CONFLICT (norad_id, bucket) DO UPDATE SET
    {_AGGREGATE_REPLACE}
WHERE positions_1m.samples <= EXCLUDED.samples
"""
RECOUNT_WINDOWS = f"""
INSERT INTO positions_1m ({_AGGREGATE_LIST})
SELECT w.norad_id, w.bucket, count(*), avg(p.ground_speed_kmh), avg(p.orbital_speed_kmh),
       min(p.altitude_km), max(p.altitude_km)
FROM unnest(%s::int4[], %s::timestamptz[]) AS w (norad_id, bucket)
JOIN positions p
  ON p.norad_id = w.norad_id AND p.event_time >= w.bucket AND p.event_time < w.bucket + %s
GROUP BY w.norad_id, w.bucket
ON CONFLICT (norad_id, bucket) DO UPDATE SET
    {_AGGREGATE_REPLACE}
"""
"""Recount windows from the stored positions: every window's row equals its positions."""


def position_row(position: EnrichedPosition) -> tuple[Any, ...]:
    """The `positions` columns of one enriched position, in POSITION_COLUMNS order."""
    raw = position.raw
    return (
        raw.norad_id,
        raw.event_time,
        raw.latitude,
        raw.longitude,
        raw.altitude_km,
        raw.source,
        raw.sequence,
        position.ground_speed_kmh,
        position.heading_deg,
        position.orbital_speed_kmh,
        position.subsolar_latitude,
        position.subsolar_longitude,
        position.ground_daylight,
        position.satellite_sunlit,
        position.local_solar_time_h,
        position.footprint_radius_km,
    )


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential back-off between attempts to reach the database: `initial_seconds`, then
    twice as long each time, up to `max_seconds`."""

    initial_seconds: float = 0.5
    max_seconds: float = 10.0


class RetryingConnection:
    """One connection that is re-opened, and the work re-run, until the work commits."""

    def __init__(
        self,
        dsn: str,
        backoff: Backoff,
        table: str,
        setup: Callable[[psycopg.Connection[Any]], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._dsn = dsn
        self._backoff = backoff
        self._table = table
        self._setup = setup
        self._sleep = sleep
        self._conn: psycopg.Connection[Any] | None = None

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            conn = psycopg.connect(self._dsn, connect_timeout=5)
            if self._setup is not None:
                self._setup(conn)
                conn.commit()
            self._conn = conn
        return self._conn

    def _discard(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None

    def _failed(self, state: tenacity.RetryCallState) -> None:
        """Before each wait: count and log the failure, and drop the broken connection."""
        error = state.outcome.exception() if state.outcome is not None else None
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        metrics.WRITE_RETRIES.labels(self._table).inc()
        logger.warning(
            "write to %s failed (attempt %d), retrying in %.1f s: %s",
            self._table,
            state.attempt_number,
            delay,
            str(error).strip(),
        )
        self._discard()

    def run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Run `work` in a transaction, retrying on connection-level failures forever."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(psycopg.OperationalError),
            wait=tenacity.wait_exponential(
                multiplier=self._backoff.initial_seconds, max=self._backoff.max_seconds
            ),
            sleep=self._sleep,
            before_sleep=self._failed,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                conn = self._connection()
                with conn.transaction():
                    result = work(conn)
        number = attempt.retry_state.attempt_number
        if number > 1:
            logger.info("write to %s succeeded after %d attempts", self._table, number)
        return result

    def close(self) -> None:
        self._discard()


def _durable_commits(conn: psycopg.Connection[Any]) -> None:
    # A batch counts as written once COMMIT returns, and the Kafka offset moves on: the commit
    # must be on disk by then, whatever the server's default says.
    conn.execute("SET synchronous_commit = on")


def _prepare_positions(conn: psycopg.Connection[Any]) -> None:
    _durable_commits(conn)
    conn.execute(_CREATE_STAGING)


def write_positions(conn: psycopg.Connection[Any], rows: Sequence[tuple[Any, ...]]) -> int:
    """COPY rows into the staging table and merge them; return how many were new."""
    with conn.cursor() as cur:
        with cur.copy(_COPY_STAGING) as copy:
            copy.set_types(POSITION_TYPES)
            for row in rows:
                copy.write_row(row)
        return merge_staged(cur)


def merge_staged(cur: psycopg.Cursor[Any]) -> int:
    """Move the staged rows into `positions`, skipping stored ones; return how many were new.

    The merge first tries a plain INSERT under a savepoint: in the steady state none of the rows
    is stored yet, and a plain INSERT costs the server about a quarter less than INSERT ...
    ON CONFLICT (benchmarks/enricher_parts_bench.py). If any row is already stored (a replay
    after a restart, a redelivered batch), that INSERT fails on the primary key, rolls back to
    the savepoint, and the batch is merged with INSERT ... ON CONFLICT DO NOTHING. Either way the
    table ends up with exactly the rows ON CONFLICT DO NOTHING alone would give.
    """
    try:
        with cur.connection.transaction():
            cur.execute(_INSERT_STAGING)
    except psycopg.errors.UniqueViolation:
        metrics.MERGED_BATCHES.inc()
        cur.execute(_MERGE_STAGING)
    return cur.rowcount


def recount_windows(
    conn: psycopg.Connection[Any], windows: Iterable[tuple[int, datetime]], length: timedelta
) -> None:
    """Rewrite the aggregate rows of these (NORAD id, window start) windows from `positions`."""
    chosen = sorted(windows)
    if chosen:
        ids = [norad_id for norad_id, _ in chosen]
        starts = [start for _, start in chosen]
        conn.execute(RECOUNT_WINDOWS, (ids, starts, length))
        metrics.WINDOWS_RECOUNTED.inc(len(chosen))


class PositionsWriter(StatelessSinkPartition[EnrichedPosition]):
    """Writes batches of positions over one retrying connection and keeps the write metrics."""

    def __init__(self, conn: RetryingConnection, window: timedelta = timedelta(minutes=1)) -> None:
        self._conn = conn
        self._window = window
        self._newest_committed = 0.0

    @classmethod
    def connect(
        cls, dsn: str, backoff: Backoff, window: timedelta = timedelta(minutes=1)
    ) -> PositionsWriter:
        """A writer whose connection opens lazily (on the first batch) and reopens after errors.

        `window` is the aggregate window length, for recounting windows of late positions."""
        return cls(RetryingConnection(dsn, backoff, "positions", setup=_prepare_positions), window)

    def write_batch(self, items: list[EnrichedPosition]) -> None:
        self.write_positions(items)

    def write_positions(
        self, items: list[EnrichedPosition], recount: Iterable[tuple[int, datetime]] = ()
    ) -> None:
        """Store the positions in one transaction, recounting the `recount` windows (those of
        late positions) in it; return once it is committed."""
        if not items:
            return
        rows = [position_row(p) for p in items]
        windows = list(recount)
        window = self._window

        def work(conn: psycopg.Connection[Any]) -> None:
            write_positions(conn, rows)
            recount_windows(conn, windows, window)

        started = time.perf_counter()
        self._conn.run(work)
        committed = time.time()
        metrics.BATCH_WRITE_SECONDS.observe(time.perf_counter() - started)
        metrics.RECORDS_OUT.inc(len(items))
        events = [position.raw.event_time.timestamp() for position in items]
        metrics.observe_many(
            metrics.END_TO_END_LATENCY_SECONDS, [committed - event for event in events]
        )
        newest = max(events)
        if newest > self._newest_committed:
            self._newest_committed = newest
            metrics.LAST_COMMITTED_EVENT.set(newest)

    def close(self) -> None:
        self._conn.close()


class PositionsSink(DynamicSink[EnrichedPosition]):
    """Enriched positions into `positions`, one transaction per batch (see `write_positions`)."""

    def __init__(self, dsn: str, backoff: Backoff | None = None) -> None:
        self._dsn = dsn
        self._backoff = backoff or Backoff()

    def build(self, step_id: str, worker_index: int, worker_count: int) -> PositionsWriter:
        return PositionsWriter.connect(self._dsn, self._backoff)


def aggregate_row(row: WindowAggregate) -> tuple[Any, ...]:
    return (
        row.norad_id,
        row.bucket,
        row.samples,
        row.mean_ground_speed_kmh,
        row.mean_orbital_speed_kmh,
        row.min_altitude_km,
        row.max_altitude_km,
    )


def write_aggregates(conn: psycopg.Connection[Any], rows: Sequence[WindowAggregate]) -> None:
    with conn.cursor() as cur:
        cur.executemany(_UPSERT_AGGREGATE, [aggregate_row(r) for r in rows])


class _AggregatesPartition(StatelessSinkPartition[WindowAggregate]):
    def __init__(self, conn: RetryingConnection) -> None:
        self._conn = conn

    def write_batch(self, items: list[WindowAggregate]) -> None:
        if items:
            self._conn.run(lambda conn: write_aggregates(conn, items))

    def close(self) -> None:
        self._conn.close()


class AggregatesSink(DynamicSink[WindowAggregate]):
    """Closed windows into `positions_1m`, upserted so a re-delivered window replaces its row."""

    def __init__(self, dsn: str, backoff: Backoff | None = None) -> None:
        self._dsn = dsn
        self._backoff = backoff or Backoff()

    def build(
        self, step_id: str, worker_index: int, worker_count: int
    ) -> StatelessSinkPartition[WindowAggregate]:
        conn = RetryingConnection(self._dsn, self._backoff, "positions_1m", setup=_durable_commits)
        return _AggregatesPartition(conn)
