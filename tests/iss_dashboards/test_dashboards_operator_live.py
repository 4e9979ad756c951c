"""The operator panels of the dashboards against the real ``iss-operator``.

The real operator process watches a namespace of its own on the local control plane, with a
Deployment (the producer) and a StatefulSet (the enricher) standing in for the workloads. Its
Pipeline reads freshness from metrics this module controls (tests/support/operator.py):
fresh at first, then the enricher stops storing, so the operator restarts the enricher twice
(a 5 s cooldown and a budget of two restarts an hour). The test Prometheus scrapes the
operator as the chart's job ``iss-operator`` with a label of this run's own, and every
``iss_operator_*`` selector is limited to that label, so no other target can answer.

A counter's first sample is not an increase to Prometheus: ``increase()`` counts the
operator's first restart of a (pipeline, component, reason) only once a later sample exists.
Hence the second restart: the panels must show a restart that really happened.
"""

from __future__ import annotations

import math
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from iss_dashboards.macros import expand_promql
from iss_devstack.controlplane import ControlPlane
from iss_devstack.prometheus import Prometheus
from tests.support.operator import (
    Cluster,
    OperatorProcess,
    PipelineMetrics,
    apply_crds,
    pipeline_manifest,
    prepare_cluster,
    stop_operator,
)
from tests.support.waits import wait_until

from .fixtures import (
    OPERATOR_METRIC,
    RUN_LABEL,
    Query,
    finite_series,
    ids,
    promql_context,
    promql_queries,
    scoped,
)

pytestmark = pytest.mark.controlplane

RESTARTS = 2
COOLDOWN_S = 5
STARTUP_TIMEOUT_S = 60.0
RESTARTS_TIMEOUT_S = 60.0
SERIES_TIMEOUT_S = 30.0
# How far back the time series panels are read: the panel draws every point of its range.
PANEL_WINDOW = "3m"

OPERATOR_PROMQL = [query for query in promql_queries() if OPERATOR_METRIC.search(query.text)]


@dataclass
class OperatorRun:
    """The running operator, its Pipeline, and the Prometheus that scrapes it."""

    prometheus: Prometheus
    run_id: str
    cluster: Cluster
    pipeline: str
    """The Pipeline's name; metrics label it ``namespace/name``."""
    process: OperatorProcess

    @property
    def pipeline_label(self) -> str:
        return f"{self.cluster.namespace}/{self.pipeline}"

    def series(self, expr: str) -> list[dict[str, Any]]:
        """The finite series of a dashboard expression, over this run's operator only."""
        limited = scoped(expand_promql(expr, promql_context()), OPERATOR_METRIC, self.run_id)
        return finite_series(self.prometheus, limited, timeout=SERIES_TIMEOUT_S)

    def drawn(self, expr: str) -> list[dict[str, Any]]:
        """The highest point of each line a time series panel draws for the last minutes.

        Waits until some line is above zero: the newest scrape may fall after the last point
        of the panel's one-second grid. Fails if no line ever is.
        """
        drawn = f"max_over_time(({expr})[{PANEL_WINDOW}:1s])"
        limited = scoped(expand_promql(drawn, promql_context()), OPERATOR_METRIC, self.run_id)
        self.prometheus.wait_for(f"{limited} > 0", timeout=SERIES_TIMEOUT_S)
        return self.prometheus.query(limited)


def _panel(title: str) -> Query:
    (query,) = [query for query in OPERATOR_PROMQL if query.panel.get("title") == title]
    return query


@pytest.fixture(scope="module")
def operator_run(
    controlplane: ControlPlane,
    prometheus: Prometheus,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorRun]:
    """The operator running until it has restarted the enricher twice, scraped throughout."""
    work = tmp_path_factory.mktemp("dashboards-operator")
    apply_crds(controlplane)
    namespace = f"test-{uuid.uuid4().hex[:10]}"
    run_id = uuid.uuid4().hex[:12]
    controlplane.create_namespace(namespace)
    with ExitStack() as cleanup:
        cleanup.callback(controlplane.delete_namespace, namespace)
        cluster = prepare_cluster(controlplane, namespace, enricher_kind="StatefulSet")

        served = PipelineMetrics()
        cleanup.callback(served.close)
        job = f"pipeline-{namespace}"
        prometheus.add_target(job, served.address)
        cleanup.callback(prometheus.remove_target, job, served.address)

        process = OperatorProcess(controlplane, namespace, work / "operator.log").start()
        cleanup.callback(stop_operator, cluster, process)
        address = f"127.0.0.1:{process.metrics_port}"
        prometheus.add_target("iss-operator", address, {RUN_LABEL: run_id})
        cleanup.callback(prometheus.remove_target, "iss-operator", address)

        prometheus.wait_for(f'iss_enricher_last_committed_event_timestamp_seconds{{job="{job}"}}')
        name = cluster.apply_pipeline(
            pipeline_manifest(
                "health",
                prometheus.url,
                job,
                enricher_kind="StatefulSet",
                restartPolicy={"cooldownSeconds": COOLDOWN_S, "maxRestartsPerHour": RESTARTS},
            )
        )
        run = OperatorRun(prometheus, run_id, cluster, name, process)
        try:
            cluster.wait_phase(name, "Healthy", timeout=STARTUP_TIMEOUT_S)
            served.storing = False
            wait_until(
                lambda: cluster.status(name).get("restartsLastHour") == RESTARTS,
                timeout=RESTARTS_TIMEOUT_S,
                what=f"{RESTARTS} enricher restarts",
            )
            prometheus.wait_for(
                scoped(f"iss_operator_restarts_total == {RESTARTS}", OPERATOR_METRIC, run_id),
                timeout=SERIES_TIMEOUT_S,
            )
        except AssertionError:
            sys.stderr.write(f"--- operator log ---\n{process.log()[-6000:]}\n")
            raise
        yield run
        assert process.process is not None
        assert process.process.poll() is None, f"the operator exited\n{process.log()[-6000:]}"


def test_every_operator_panel_has_an_expression() -> None:
    titles = {query.panel.get("title") for query in OPERATOR_PROMQL}

    assert {
        "Operator restarts in range",
        "Operator checks",
        "Operator restarts",
        "Operator decision time",
    } <= titles


@pytest.mark.parametrize("query", OPERATOR_PROMQL, ids=ids(OPERATOR_PROMQL))
def test_every_operator_expression_returns_series_from_the_running_operator(
    operator_run: OperatorRun, query: Query
) -> None:
    result = operator_run.series(query.text)

    assert any(math.isfinite(float(series["value"][1])) for series in result), result


def test_the_restarts_panel_shows_the_enricher_restarts_by_component_and_reason(
    operator_run: OperatorRun,
) -> None:
    result = operator_run.drawn(_panel("Operator restarts").text)

    drawn = {
        (s["metric"]["pipeline"], s["metric"]["component"], s["metric"]["reason"]): float(
            s["value"][1]
        )
        for s in result
    }
    label = operator_run.pipeline_label
    # Every component's series exists from the first check (at 0); only the enricher's rose.
    assert set(drawn) <= {
        (label, "enricher", "EnricherStale"),
        (label, "producer", "ProducerStale"),
    }
    assert {key for key, value in drawn.items() if value > 0} == {
        (label, "enricher", "EnricherStale")
    }, drawn
    history = operator_run.cluster.status(operator_run.pipeline)["restartHistory"]
    assert {(r["component"], r["reason"]) for r in history} == {("enricher", "EnricherStale")}
    assert operator_run.cluster.restarted_at("iss-enricher", "statefulset")
    assert operator_run.cluster.restarted_at("iss-producer") is None


def test_the_restarts_stat_counts_the_restarts_in_range(operator_run: OperatorRun) -> None:
    (series,) = operator_run.series(_panel("Operator restarts in range").text)

    # The first restart creates the counter at 1, which increase() cannot see (docstring).
    assert RESTARTS - 1 <= float(series["value"][1]) <= RESTARTS + 0.5


def test_the_checks_panel_shows_the_phases_the_pipeline_went_through(
    operator_run: OperatorRun,
) -> None:
    result = operator_run.drawn(_panel("Operator checks").text)

    outcomes = {s["metric"]["outcome"] for s in result if float(s["value"][1]) > 0}
    assert {s["metric"]["pipeline"] for s in result} == {operator_run.pipeline_label}
    assert {"healthy", "recovering"} <= outcomes, outcomes


def test_decision_time_percentiles_are_within_the_histogram(operator_run: OperatorRun) -> None:
    for query in [q for q in OPERATOR_PROMQL if q.panel.get("title") == "Operator decision time"]:
        (series,) = operator_run.series(query.text)
        assert 0.0 < float(series["value"][1]) <= 10.0, query.where


def test_the_operator_is_scraped_as_the_charts_job(operator_run: OperatorRun) -> None:
    up = operator_run.prometheus.query(f'up{{{RUN_LABEL}="{operator_run.run_id}"}}')

    assert [(s["metric"]["job"], s["value"][1]) for s in up] == [("iss-operator", "1")]
