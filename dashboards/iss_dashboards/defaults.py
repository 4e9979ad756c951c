"""Shared defaults for every dashboard: datasources, variables, targets, panel sizes and styles.

Panels never name a datasource directly: they reference the ``$postgres`` and ``$prometheus``
datasource variables, whose defaults are the uids the chart provisions. A test checks that no
other datasource reference appears in the generated JSON.
"""

from __future__ import annotations

import re
from typing import Any

from grafanalib import core

from iss_contract.metric_names import LAST_PUBLISH
from iss_contract.pipeline import DEFAULT_FRESHNESS_THRESHOLD_SECONDS

# Datasources as the chart provisions them (name and uid are the contract with the chart).
POSTGRES_TYPE = "grafana-postgresql-datasource"
PROMETHEUS_TYPE = "prometheus"
POSTGRES_UID = "iss-postgres"
PROMETHEUS_UID = "iss-prometheus"
POSTGRES_NAME = "ISS PostgreSQL"
PROMETHEUS_NAME = "ISS Prometheus"
PROVISIONED_UIDS = {POSTGRES_TYPE: POSTGRES_UID, PROMETHEUS_TYPE: PROMETHEUS_UID}

# Dashboard variables.
POSTGRES_VAR = "postgres"
PROMETHEUS_VAR = "prometheus"
SATELLITE_VAR = "satellite"
ISS_NORAD_ID = 25544

POSTGRES: dict[str, str] = {"type": POSTGRES_TYPE, "uid": f"${{{POSTGRES_VAR}}}"}
PROMETHEUS: dict[str, str] = {"type": PROMETHEUS_TYPE, "uid": f"${{{PROMETHEUS_VAR}}}"}

REFRESH = "5s"
REFRESH_INTERVALS = ["5s", "10s", "30s", "1m", "5m", "15m"]
# Grafana's JSON model version these dashboards are written for (Grafana 11).
SCHEMA_VERSION = 39

# The operator restarts a component whose data is older than this; the dashboards colour
# freshness with the same default so "red" on the dashboard means "the operator acts".
FRESHNESS_THRESHOLD_SECONDS = DEFAULT_FRESHNESS_THRESHOLD_SECONDS

# One ISS revolution is ~92.9 min; the ground track shows one full orbit back from the newest row.
ORBIT_MINUTES = 93

GRID_COLUMNS = 24


def grid(x: int, y: int, w: int, h: int) -> core.GridPos:
    return core.GridPos(h=h, w=w, x=x, y=y)


def threshold_steps(*steps: tuple[str, float | None]) -> list[dict[str, Any]]:
    """Grafana threshold steps; the first step's value must be None (the base colour)."""
    return [{"color": color, "value": value} for color, value in steps]


FRESHNESS_STEPS = threshold_steps(("green", None), ("red", FRESHNESS_THRESHOLD_SECONDS))
NEUTRAL_STEPS = threshold_steps(("text", None))


class SqlCodeTarget(core.SqlTarget):  # type: ignore[misc]
    """A raw SQL target for the PostgreSQL datasource, opened in the code editor."""

    def to_json_data(self) -> dict[str, Any]:
        data: dict[str, Any] = super().to_json_data()
        for unused in ("expr", "query", "target", "metric", "step", "intervalFactor"):
            data.pop(unused, None)
        data["editorMode"] = "code"
        return data


class PromTarget(core.Target):  # type: ignore[misc]
    """A PromQL target, opened in the code editor."""

    def to_json_data(self) -> dict[str, Any]:
        data: dict[str, Any] = super().to_json_data()
        for unused in ("query", "target", "metric", "step", "intervalFactor"):
            data.pop(unused, None)
        data["editorMode"] = "code"
        data["range"] = not self.instant
        return data


def sql(raw_sql: str, ref_id: str = "A", fmt: str = "table") -> SqlCodeTarget:
    return SqlCodeTarget(
        rawSql=raw_sql.strip(), refId=ref_id, format=fmt, datasource=dict(POSTGRES)
    )


NAMESPACE_VAR = "namespace"
RELEASE_VAR = "release"
SCOPE_MATCHERS = f'namespace=~"${NAMESPACE_VAR}", job=~"${RELEASE_VAR}.*"'
"""Every series a dashboard reads belongs to the chosen namespace and to a job of the chosen
release: the chart names each metrics job `<release fullname>-<component>` (kafka-exporter's
too), and its alerts keep both labels. "All" is `.*` for both, which also matches series without
the labels (the local stack's)."""

_SELECTOR = re.compile(r"(?<![\w:\"])(iss_\w+|kafka_consumergroup_lag|ALERTS)(?:\{([^}]*)\})?")


def scoped(expr: str) -> str:
    """`expr` with every selector of the project's series limited by `SCOPE_MATCHERS`."""

    def add(match: re.Match[str]) -> str:
        given = (match.group(2) or "").strip().rstrip(",")
        matchers = f"{given}, {SCOPE_MATCHERS}" if given else SCOPE_MATCHERS
        return f"{match.group(1)}{{{matchers}}}"

    return _SELECTOR.sub(add, expr)


def promql(expr: str, legend: str = "", ref_id: str = "A", instant: bool = False) -> PromTarget:
    """A Prometheus query of the provisioned datasource, scoped to the chosen namespace and
    release (`scoped`)."""
    return PromTarget(
        expr=scoped(expr.strip()),
        legendFormat=legend,
        refId=ref_id,
        instant=instant,
        datasource=dict(PROMETHEUS),
    )


def datasource_variable(name: str, label: str, plugin: str, uid: str, text: str) -> core.Template:
    """A datasource picker whose default is the provisioned datasource."""
    variable = core.Template(
        name=name,
        label=label,
        query=plugin,
        type="datasource",
        default=uid,
        options=[],
        refresh=core.REFRESH_ON_DASHBOARD_LOAD,
    )
    # Grafana stores a datasource variable's value as the uid and shows the name.
    variable._current = {"selected": True, "text": text, "value": uid}
    return variable


def postgres_variable() -> core.Template:
    return datasource_variable(
        POSTGRES_VAR, "PostgreSQL", POSTGRES_TYPE, POSTGRES_UID, POSTGRES_NAME
    )


def prometheus_variable() -> core.Template:
    return datasource_variable(
        PROMETHEUS_VAR, "Prometheus", PROMETHEUS_TYPE, PROMETHEUS_UID, PROMETHEUS_NAME
    )


def _scope_variable(name: str, label: str, query: str, regex: str | None = None) -> core.Template:
    variable = core.Template(
        name=name,
        label=label,
        query=query,
        dataSource=dict(PROMETHEUS),
        includeAll=True,
        allValue=".*",
        default="$__all",
        regex=regex,
        refresh=core.REFRESH_ON_DASHBOARD_LOAD,
    )
    variable._current = {"selected": True, "text": "All", "value": "$__all"}
    return variable


def scope_variables() -> list[core.Template]:
    """The namespace and the release whose series the Prometheus panels show (default: all)."""
    return [
        _scope_variable(NAMESPACE_VAR, "Namespace", f"label_values({LAST_PUBLISH}, namespace)"),
        _scope_variable(
            RELEASE_VAR,
            "Release",
            f'label_values({LAST_PUBLISH}{{namespace=~"${NAMESPACE_VAR}"}}, job)',
            regex="/^(.+)-producer$/",
        ),
    ]


def stat(
    title: str,
    description: str,
    target: core.Target,
    pos: core.GridPos,
    *,
    field: str | None = None,
    unit: str = "none",
    decimals: int | None = None,
    steps: list[dict[str, Any]] | None = None,
    mappings: list[dict[str, Any]] | None = None,
    color_mode: str = "value",
) -> core.Stat:
    """A single-value panel showing the last value of ``field`` (default: the numeric fields).

    Naming the field matters for text values: Grafana's stat shows only numeric fields otherwise.
    """
    return core.Stat(
        title=title,
        description=description,
        dataSource=target.datasource,
        targets=[target],
        gridPos=pos,
        format=unit,
        decimals=decimals,
        reduceCalc="lastNotNull",
        fields=f"/^{field}$/" if field else "",
        graphMode="none",
        colorMode=color_mode,
        color={"mode": "thresholds"},
        thresholds=steps if steps is not None else NEUTRAL_STEPS,
        mappings=mappings or [],
        noValue="no data",
    )


def timeseries(
    title: str,
    description: str,
    targets: list[core.Target],
    pos: core.GridPos,
    *,
    unit: str,
    legend_calcs: list[str] | None = None,
    draw_style: str = "line",
    interpolation: str = "linear",
    steps: list[dict[str, Any]] | None = None,
    thresholds_style: str = "off",
    no_value: str | None = None,
) -> core.TimeSeries:
    """A time series panel; ``no_value`` is what it says instead of an empty graph."""
    extra = {"fieldConfig": {"defaults": {"noValue": no_value}}} if no_value else {}
    return core.TimeSeries(
        title=title,
        description=description,
        dataSource=targets[0].datasource,
        targets=targets,
        gridPos=pos,
        unit=unit,
        legendDisplayMode="table" if legend_calcs else "list",
        legendCalcs=legend_calcs or [],
        drawStyle=draw_style,
        lineInterpolation=interpolation,
        tooltipMode="multi",
        thresholds=steps if steps is not None else threshold_steps(("green", None)),
        thresholdsStyleMode=thresholds_style,
        maxDataPoints=None,
        extraJson=extra,
    )


def dashboard(
    *,
    title: str,
    uid: str,
    description: str,
    tags: list[str],
    panels: list[core.Panel],
    variables: list[core.Template],
    time_from: str,
) -> core.Dashboard:
    """A dashboard with the shared refresh, time zone, tooltip and picker settings."""
    return core.Dashboard(
        title=title,
        uid=uid,
        description=description,
        tags=["iss-tracker", *tags],
        panels=panels,
        templating=core.Templating(list=variables),
        time=core.Time(time_from, "now"),
        timePicker=core.TimePicker(refreshIntervals=REFRESH_INTERVALS, timeOptions=[]),
        refresh=REFRESH,
        schemaVersion=SCHEMA_VERSION,
        timezone="utc",
        graphTooltip=core.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        editable=True,
    ).auto_panel_ids()
