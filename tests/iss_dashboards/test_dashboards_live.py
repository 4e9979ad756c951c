"""The dashboards against the real dataflow: every panel's SQL and PromQL, on live data.

The real ``iss-producer`` (SGP4 positions, a tick of 0.2 s) publishes to a raw topic; the real
``iss-enricher`` reads it and writes a fresh database. Both are scraped by the test Prometheus
under the jobs the chart uses, with a label of this run's own, and every expression is scoped
to that label so no other test's targets can answer for them.

Two inputs make the error paths export series too: the producer's first source is a local
stand-in for wheretheiss.at that answers with a latitude of 91 degrees (rejected, then SGP4
takes over), and one undecodable record goes to the raw topic (a dead letter).

The operator's ``iss_operator_*`` expressions run against the real operator in
test_dashboards_operator_live.py. Only ``kafka_consumergroup_lag`` (Strimzi's kafka-exporter,
not part of the local stack) is left to the stand-in of test_pipeline_health_dashboard.py.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from confluent_kafka import Producer

from iss_dashboards import queries as q
from iss_dashboards.defaults import ISS_NORAD_ID
from iss_dashboards.macros import QueryContext, expand_promql
from iss_dashboards.pipeline_health_dashboard import RAW_FRESHNESS, STORED_FRESHNESS
from iss_devstack.kafka import Kafka
from iss_devstack.postgres import Postgres
from iss_devstack.prometheus import Prometheus
from tests.iss_producer.fixtures import Reply, ScriptedServer, wheretheiss_body
from tests.support.names import unique
from tests.support.ports import free_port
from tests.support.processes import Component

from .fixtures import (
    ALERTS_METRIC,
    LIVE_METRIC,
    OPERATOR_METRIC,
    RUN_LABEL,
    STAND_IN_METRIC,
    Query,
    Result,
    finite_series,
    haversine_km,
    ids,
    mapped_columns,
    promql_context,
    promql_queries,
    run_sql,
    scoped,
    sql_queries,
    variable_queries,
)

pytestmark = pytest.mark.services

BIN = Path(sys.executable).parent
READY_ROWS = 30
STARTUP_TIMEOUT_S = 75.0
# After start-up, how long the expressions may still take to have samples (rates, quantiles).
SETTLE_TIMEOUT_S = 30.0
AGGREGATE_WINDOW_S = 5

# Layers and panels that must draw something on live data. The later track segments and the
# far footprint arc depend on where the station is, so they may be empty.
MUST_HAVE_ROWS = {"POSITION", "TRACK0", "FOOTPRINT0", "A", "var"}


def _clean_environment() -> dict[str, str]:
    """This process's environment without any component settings a developer may have set."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ISS_PRODUCER_", "ISS_ENRICHER_"))
    }


@dataclass
class Live:
    """The running pipeline: its database, Prometheus, and the moment the tests look at."""

    dsn: str
    prometheus: Prometheus
    run_id: str
    time_to: datetime
    """Just after the newest row stored when the pipeline was ready: rows up to here are final
    (one satellite is one key, so one partition, read and written in order)."""
    settle_deadline: float
    components: list[Component] = field(default_factory=list)

    def sql_context(self) -> QueryContext:
        """What Grafana sends for the dashboard's default range (2 h) ending at `time_to`."""
        return QueryContext(
            time_from=self.time_to - timedelta(hours=2),
            time_to=self.time_to,
            interval=timedelta(seconds=AGGREGATE_WINDOW_S),
            variables={"satellite": str(ISS_NORAD_ID)},
        )

    def sql(self, text: str) -> Result:
        return run_sql(self.dsn, text, self.sql_context())

    def series(self, expr: str) -> list[dict[str, Any]]:
        """The finite series of a dashboard expression, waiting for samples if need be."""
        limited = scoped(expand_promql(expr, promql_context()), LIVE_METRIC, self.run_id)
        remaining = max(self.settle_deadline - time.monotonic(), 2.0)
        return finite_series(self.prometheus, limited, timeout=remaining)

    def logs(self) -> str:
        return "\n".join(component.tail() for component in self.components)


def _rows(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql.encode()).fetchall()


def _counts(dsn: str) -> tuple[int, int]:
    """Rows in `positions` and `positions_1m` (0, 0 until the enricher has migrated)."""
    try:
        (row,) = _rows(
            dsn, "SELECT (SELECT count(*) FROM positions), (SELECT count(*) FROM positions_1m)"
        )
    except psycopg.Error:
        return 0, 0
    return int(row[0]), int(row[1])


def _send_undecodable_record(bootstrap: str, topic: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic, value=b"<html>502 Bad Gateway</html>", key=b"25544")
    assert producer.flush(30) == 0


def _wait_until_ready(live: Live, deadline: float) -> None:
    """Enough rows for the track, a closed aggregate window, both targets scraped."""
    up = f'up{{{RUN_LABEL}="{live.run_id}"}} == 1'
    state = "nothing yet"
    while time.monotonic() < deadline:
        for component in live.components:
            assert component.alive(), f"{component.name} exited\n{live.logs()}"
        positions, aggregates = _counts(live.dsn)
        jobs = {series["metric"]["job"] for series in live.prometheus.query(up)}
        state = f"{positions} positions, {aggregates} aggregates, scraped: {sorted(jobs)}"
        if positions >= READY_ROWS and aggregates >= 1 and jobs == {"iss-producer", "iss-enricher"}:
            return
        time.sleep(0.5)
    raise AssertionError(f"pipeline not ready in {STARTUP_TIMEOUT_S} s: {state}\n{live.logs()}")


@pytest.fixture(scope="module")
def live(
    kafka: Kafka,
    postgres: Postgres,
    prometheus: Prometheus,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Live]:
    """Producer and enricher running against fresh topics and a fresh database.

    Module-scoped (so topics and database are made here as `make_topic` and `pg_dsn` make
    them): the pipeline starts once for all the queries below.
    """
    started = time.monotonic()
    work = tmp_path_factory.mktemp("dashboards-live")
    raw, enriched, deadletter = (unique("test") for _ in range(3))
    kafka.create_topic(raw, 3)
    kafka.create_topic(enriched, 1)
    kafka.create_topic(deadletter, 1)
    dsn = postgres.create_database(unique("test").replace("-", "_"))
    run_id = uuid.uuid4().hex[:12]
    producer_port, enricher_port = free_port(), free_port()
    while enricher_port == producer_port:
        enricher_port = free_port()

    with ExitStack() as cleanup:
        wheretheiss = ScriptedServer()
        cleanup.callback(wheretheiss.close)
        wheretheiss.responder = lambda _n: Reply(200, wheretheiss_body(time.time(), latitude=91.0))

        base = _clean_environment()
        enricher = Component.start(
            "iss-enricher",
            [str(BIN / "iss-enricher"), "--migrate"],
            {
                **base,
                "ISS_ENRICHER_BOOTSTRAP_SERVERS": kafka.bootstrap,
                "ISS_ENRICHER_RAW_TOPIC": raw,
                "ISS_ENRICHER_ENRICHED_TOPIC": enriched,
                "ISS_ENRICHER_DEADLETTER_TOPIC": deadletter,
                "ISS_ENRICHER_CONSUMER_GROUP": f"iss-enricher-{run_id}",
                "ISS_ENRICHER_DATABASE_DSN": dsn,
                "ISS_ENRICHER_METRICS_HOST": "127.0.0.1",
                "ISS_ENRICHER_METRICS_PORT": str(enricher_port),
                "ISS_ENRICHER_RECOVERY_DIRECTORY": str(work / "recovery"),
                "ISS_ENRICHER_SNAPSHOT_INTERVAL_SECONDS": "1",
                # Short windows so `positions_1m` gets rows within seconds.
                "ISS_ENRICHER_WINDOW_SECONDS": str(AGGREGATE_WINDOW_S),
                "ISS_ENRICHER_WINDOW_WAIT_SECONDS": "1",
                "ISS_ENRICHER_DB_RETRY_MAX_SECONDS": "1",
                # The producer below ticks every 0.2 s: steps that short still get a speed.
                "ISS_ENRICHER_MIN_STEP_SECONDS": "0.1",
                "ISS_ENRICHER_LOG_FORMAT": "text",
            },
            work / "enricher.log",
        )
        cleanup.callback(enricher.stop)
        producer = Component.start(
            "iss-producer",
            [str(BIN / "iss-producer")],
            {
                **base,
                "ISS_PRODUCER_BOOTSTRAP_SERVERS": kafka.bootstrap,
                "ISS_PRODUCER_TOPIC": raw,
                "ISS_PRODUCER_SOURCES": "wheretheiss,sgp4",
                "ISS_PRODUCER_WHERETHEISS_URL": wheretheiss.url,
                "ISS_PRODUCER_PRIMARY_PROBE_SECONDS": "1",
                "ISS_PRODUCER_TICK_SECONDS": "0.2",
                "ISS_PRODUCER_METRICS_HOST": "127.0.0.1",
                "ISS_PRODUCER_METRICS_PORT": str(producer_port),
                "ISS_PRODUCER_SHUTDOWN_GRACE_SECONDS": "5",
                "ISS_PRODUCER_LOG_FORMAT": "text",
            },
            work / "producer.log",
        )
        # Stopped first (callbacks run last-in first-out), so the enricher can drain.
        cleanup.callback(producer.stop)
        for job, port in (("iss-producer", producer_port), ("iss-enricher", enricher_port)):
            address = f"127.0.0.1:{port}"
            prometheus.add_target(job, address, {RUN_LABEL: run_id})
            cleanup.callback(prometheus.remove_target, job, address)
        _send_undecodable_record(kafka.bootstrap, raw)

        pipeline = Live(
            dsn=dsn,
            prometheus=prometheus,
            run_id=run_id,
            time_to=datetime.now(UTC),
            settle_deadline=0.0,
            components=[producer, enricher],
        )
        _wait_until_ready(pipeline, started + STARTUP_TIMEOUT_S)
        ((newest,),) = _rows(dsn, "SELECT max(event_time) FROM positions")
        pipeline.time_to = newest + timedelta(milliseconds=1)
        pipeline.settle_deadline = time.monotonic() + SETTLE_TIMEOUT_S
        yield pipeline
        for component in pipeline.components:
            assert component.alive(), f"{component.name} exited during the tests\n{pipeline.logs()}"


# -- SQL ---------------------------------------------------------------------------------------

ALL_SQL = sql_queries() + variable_queries()


@pytest.mark.parametrize("query", ALL_SQL, ids=ids(ALL_SQL))
def test_every_panel_query_returns_the_columns_its_panel_maps_from_live_rows(
    live: Live, query: Query
) -> None:
    result = live.sql(query.text)

    assert mapped_columns(query) <= set(result.columns), result.columns
    if query.ref_id in MUST_HAVE_ROWS:
        assert result.rows, f"{query.where} returned no rows"
    if query.panel.get("type") == "timeseries":
        times = result.column("time")
        assert times == sorted(times)
        assert len(result.columns) >= 2
        assert all(value is not None for row in result.rows for value in row)


def _newest_row(live: Live) -> dict[str, Any]:
    with psycopg.connect(live.dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT * FROM positions WHERE norad_id = %s AND event_time <= %s "
            "ORDER BY event_time DESC LIMIT 1",
            (ISS_NORAD_ID, live.time_to),
        )
        assert cur.description is not None
        names = [c.name for c in cur.description]
        row = cur.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


def test_the_marker_and_the_stats_show_the_newest_stored_row(live: Live) -> None:
    newest = _newest_row(live)
    position = live.sql(q.current_position())

    assert position.column("time") == [newest["event_time"]]
    for name in ("latitude", "longitude", "altitude_km", "orbital_speed_kmh", "source"):
        assert position.column(name) == [newest[name]]
    stats = {
        mapped: live.sql(query.text).column(mapped)[0]
        for query in ALL_SQL
        if query.panel.get("type") == "stat"
        for mapped in mapped_columns(query)
    }
    assert stats["source"] == "sgp4"
    assert 27_000 < stats["orbital_speed_kmh"] < 28_300
    assert stats["ground_speed_kmh"] == pytest.approx(newest["ground_speed_kmh"])
    assert stats["satellite_light"] == ("sunlit" if newest["satellite_sunlit"] else "eclipsed")
    assert stats["ground_light"] == ("day" if newest["ground_daylight"] else "night")
    assert 0 <= stats["age_seconds"] < 15


def test_the_route_is_the_stored_track_ordered_by_time_and_split_at_the_antimeridian(
    live: Live,
) -> None:
    segments = [live.sql(q.ground_track(n)) for n in range(4)]
    ((stored,),) = _rows(
        live.dsn,
        f"SELECT count(*) FROM positions WHERE norad_id = {ISS_NORAD_ID} "
        f"AND event_time <= '{live.time_to.isoformat()}'",
    )

    oldest_first = [row for result in reversed(segments) for row in result.rows]
    times = [row[0] for row in oldest_first]
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    assert times[-1] == _newest_row(live)["event_time"]
    assert len(times) == math.ceil(stored / q.TRACK_EVERY_N)
    drawn = [result for result in segments if result.rows]
    for result in drawn:
        longitudes = result.column("longitude")
        assert all(abs(b - a) <= 180.0 for a, b in itertools.pairwise(longitudes))
    for newer, older in itertools.pairwise(drawn):
        assert abs(newer.column("longitude")[0] - older.column("longitude")[-1]) > 180.0


def test_the_footprint_is_a_circle_around_the_newest_position_split_at_the_antimeridian(
    live: Live,
) -> None:
    newest = _newest_row(live)
    near, beyond = (live.sql(q.footprint(part)) for part in range(2))

    points = near.rows + beyond.rows
    assert len(points) == 360 // q.FOOTPRINT_STEP_DEG + 1
    for lat, lon in points:
        distance = haversine_km(newest["latitude"], newest["longitude"], lat, lon)
        assert distance == pytest.approx(newest["footprint_radius_km"], abs=1.0)
    for part in (near, beyond):
        assert all(abs(b[1] - a[1]) <= 180.0 for a, b in itertools.pairwise(part.rows))
    side = math.copysign(1.0, newest["longitude"])
    if beyond.rows:
        # The arc beyond the antimeridian lies on the other side of it from the station.
        assert all(math.copysign(1.0, lon) != side for _, lon in beyond.rows)
        assert all(math.copysign(1.0, lon) == side for _, lon in near.rows)
    else:
        assert near.rows[0] == pytest.approx(near.rows[-1])


# -- PromQL ------------------------------------------------------------------------------------

ALL_PROMQL = promql_queries()
LIVE_PROMQL = [query for query in ALL_PROMQL if LIVE_METRIC.search(query.text)]


def test_only_kafka_exporter_expressions_are_left_to_a_stand_in() -> None:
    """Each expression reads one family: producer and enricher (here), operator (run by
    test_dashboards_operator_live.py), the chart's alerts (tests/charts/test_alerts_live.py) or
    kafka-exporter's, the only stand-in left."""
    families = {
        "live": LIVE_METRIC,
        "operator": OPERATOR_METRIC,
        "alerts": ALERTS_METRIC,
        "stand-in": STAND_IN_METRIC,
    }
    by_family = {
        name: {query.text for query in ALL_PROMQL if pattern.search(query.text)}
        for name, pattern in families.items()
    }

    for query in ALL_PROMQL:
        assert sum(query.text in texts for texts in by_family.values()) == 1, query.where
    assert all(by_family.values()), {name: len(texts) for name, texts in by_family.items()}


@pytest.mark.parametrize("query", LIVE_PROMQL, ids=ids(LIVE_PROMQL))
def test_every_producer_and_enricher_expression_returns_series_from_the_running_pipeline(
    live: Live, query: Query
) -> None:
    assert live.series(query.text)


def test_both_freshness_stats_are_seconds_since_live_data(live: Live) -> None:
    for expr in (STORED_FRESHNESS, RAW_FRESHNESS):
        (series,) = live.series(expr)
        assert 0.0 <= float(series["value"][1]) < 15.0


def test_messages_flow_through_every_stage(live: Live) -> None:
    for metric in (
        "iss_producer_messages_produced_total",
        "iss_enricher_records_in_total",
        "iss_enricher_records_out_total",
    ):
        # Every stage counted at least the rows the fixture waited for, and is still moving.
        assert live.series(f"sum({metric}) >= {READY_ROWS}"), metric
        assert live.series(f"sum(rate({metric}[$__rate_interval])) > 0"), metric


def test_error_panels_show_the_dead_letter_and_the_rejected_answers(live: Live) -> None:
    dead = live.series("sum by (reason) (rate(iss_enricher_records_rejected_total[1m]))")
    rejected = live.series("sum by (source, reason) (rate(iss_producer_rejected_total[1m]))")

    # Every reason has a series from the start (at 0); only the dead letter's one counted.
    counted = live.series("sum by (reason) (iss_enricher_records_rejected_total) > 0")

    assert {s["metric"]["reason"] for s in dead} >= {"invalid_json"}
    assert {s["metric"]["reason"] for s in counted} == {"invalid_json"}
    assert {(s["metric"]["source"], s["metric"]["reason"]) for s in rejected} == {
        ("wheretheiss", "out_of_range")
    }


def test_the_producer_source_panel_shows_sgp4_active(live: Live) -> None:
    result = live.series("max by (source) (iss_producer_current_source)")

    assert {s["metric"]["source"]: float(s["value"][1]) for s in result} == {
        "wheretheiss": 0.0,
        "sgp4": 1.0,
    }


def test_without_kafka_exporter_its_lag_panel_says_so_and_the_enricher_lag_panel_draws(
    live: Live,
) -> None:
    """The local stack has no kafka-exporter, like an external or managed Kafka."""
    panels = {q.panel["title"]: q for q in ALL_PROMQL}
    exporter = panels["Consumer lag (kafka-exporter)"]
    enricher = panels["Enricher consumer lag"]

    exporter_metric = re.compile(r"\b(kafka_consumergroup_lag)(\{)?")
    run_only = scoped(expand_promql(exporter.text, promql_context()), exporter_metric, live.run_id)
    assert live.prometheus.query(run_only) == []
    assert "No kafka-exporter series" in exporter.panel["fieldConfig"]["defaults"]["noValue"]
    lag = live.series(enricher.text)
    assert lag
    assert all(float(s["value"][1]) >= 0 for s in lag)
