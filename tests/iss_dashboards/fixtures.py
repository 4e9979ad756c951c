"""Helpers shared by the dashboard tests: the generated JSON, the queries inside it, and how
to run them against PostgreSQL and Prometheus as Grafana would."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import psycopg

from iss_dashboards.build import default_output_dir
from iss_dashboards.catalog import DASHBOARDS
from iss_dashboards.defaults import POSTGRES_TYPE, PROMETHEUS_TYPE
from iss_dashboards.macros import QueryContext, expand_sql
from iss_dashboards.queries import EARTH_RADIUS_KM

REPO_ROOT = Path(__file__).resolve().parents[2]


def generated() -> dict[str, dict[str, Any]]:
    """The committed JSON of every dashboard, by file name."""
    out = default_output_dir()
    return {name: json.loads((out / name).read_text(encoding="utf-8")) for name in DASHBOARDS}


@dataclass(frozen=True)
class Query:
    """One query of one panel (or of a template variable) in the generated JSON."""

    dashboard: str
    panel: dict[str, Any]
    ref_id: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.dashboard} / {self.panel.get('title')} / {self.ref_id}"


def queries(kind: str) -> Iterator[Query]:
    """Every SQL (``kind`` = PostgreSQL type) or PromQL query in every generated dashboard."""
    field = "rawSql" if kind == POSTGRES_TYPE else "expr"
    for name, dashboard in generated().items():
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                if target["datasource"]["type"] == kind:
                    yield Query(name, panel, target["refId"], target[field])


def sql_queries() -> list[Query]:
    return list(queries(POSTGRES_TYPE))


def promql_queries() -> list[Query]:
    return list(queries(PROMETHEUS_TYPE))


def variable_queries(kind: str = POSTGRES_TYPE) -> list[Query]:
    """The queries of the template variables of one datasource type (a Prometheus variable's
    query is Grafana's `label_values(...)`; its regex is kept as the panel's `regex`)."""
    found = []
    for name, dashboard in generated().items():
        for variable in dashboard["templating"]["list"]:
            if variable["type"] == "query" and variable["datasource"]["type"] == kind:
                panel = {"title": f"${variable['name']}", "regex": variable.get("regex")}
                found.append(Query(name, panel, "var", variable["query"]))
    return found


def ids(found: Iterable[Query]) -> list[str]:
    """Test ids for parametrizing over queries: dashboard / panel / refId."""
    return [query.where for query in found]


def mapped_columns(query: Query) -> set[str]:
    """The fields the panel reads from this query's result, as its JSON says."""
    panel = query.panel
    if panel.get("type") == "geomap":
        columns: set[str] = set()
        for layer in panel["options"]["layers"]:
            if layer.get("filterData", {}).get("options") == query.ref_id:
                columns |= {layer["location"]["latitude"], layer["location"]["longitude"]}
        return columns
    if panel.get("type") == "stat":
        pattern = panel["options"]["reduceOptions"]["fields"]
        match = re.fullmatch(r"/\^(\w+)\$/", pattern)
        return {match.group(1)} if match else set()
    if panel.get("type") == "timeseries":
        return {"time"}
    return {"__value", "__text"}


@dataclass(frozen=True)
class Result:
    """Column names and rows of one SQL query."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    def column(self, name: str) -> list[Any]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


def run_sql(dsn: str, sql: str, context: QueryContext) -> Result:
    """Run a panel's SQL with Grafana's variables and macros expanded."""
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(expand_sql(sql, context).encode())
        assert cur.description is not None
        return Result([c.name for c in cur.description], cur.fetchall())


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on the sphere the footprint SQL uses."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


RUN_LABEL = "dashboard_test_run"
"""Target label the live tests give their scrape targets, so no other test's can answer."""
LIVE_METRIC = re.compile(r"\b(iss_(?:producer|enricher)_\w+)(\{)?")
"""Producer and enricher metrics: evaluated on the running processes (test_dashboards_live)."""
OPERATOR_METRIC = re.compile(r"\b(iss_operator_\w+)(\{)?")
"""Operator metrics: evaluated on the running operator (test_dashboards_operator_live)."""
STAND_IN_METRIC = re.compile(r"\bkafka_consumergroup_lag\b")
"""Strimzi's kafka-exporter is not part of the local stack: a stand-in only exports this."""
ALERTS_METRIC = re.compile(r"\bALERTS\{")
"""The chart's alerts: only where the rules run (tests/charts/test_alerts_live.py)."""


def scoped(expr: str, metric: re.Pattern[str], run_id: str) -> str:
    """``expr`` with every selector of a ``metric`` family limited to the run's targets.

    ``metric`` captures the name and, as a second group, an opening brace if there is one.
    """
    matcher = f'{RUN_LABEL}="{run_id}"'

    def add(match: re.Match[str]) -> str:
        return f"{match.group(1)}{{{matcher}" + ("," if match.group(2) else "}")

    return metric.sub(add, expr)


class PromQuery(Protocol):
    """What the tests use of the session's ``prometheus`` fixture."""

    def query(self, expr: str) -> list[dict[str, Any]]: ...


def promql_context() -> QueryContext:
    """The last five minutes at a 1 s interval; a rate interval of 15 scrapes."""
    now = datetime.now(UTC)
    return QueryContext(
        time_from=now - timedelta(minutes=5),
        time_to=now,
        interval=timedelta(seconds=1),
        rate_interval=timedelta(seconds=15),
        variables={"namespace": ".*", "release": ".*"},  # the variables' "All"
    )


def finite_series(prometheus: PromQuery, expr: str, timeout: float = 60.0) -> list[dict[str, Any]]:
    """Poll until a series has a finite value (rates need two scrapes).

    Idle label sets (a source never fetched from) legitimately give NaN quantiles.
    """
    deadline = time.monotonic() + timeout
    result: list[dict[str, Any]] = []
    while True:
        result = prometheus.query(expr)
        if any(math.isfinite(float(series["value"][1])) for series in result):
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{expr!r} returned no finite series within {timeout} s: {result}")
        time.sleep(1.0)
