"""Helpers shared by the dashboard tests: the generated JSON and the queries inside it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iss_dashboards.build import default_output_dir
from iss_dashboards.catalog import DASHBOARDS
from iss_dashboards.defaults import POSTGRES_TYPE, PROMETHEUS_TYPE

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


def variable_queries() -> list[Query]:
    found = []
    for name, dashboard in generated().items():
        for variable in dashboard["templating"]["list"]:
            if variable["type"] == "query":
                found.append(
                    Query(name, {"title": f"${variable['name']}"}, "var", variable["query"])
                )
    return found
