"""Two releases of the chart in one namespace, one Prometheus: each operator heals its own.

The Pipelines, their PromQL and the operators' selectors and Leases are the ones `helm template`
renders for two releases; the workloads are stand-ins (no kubelet on this control plane), and
the metrics come from endpoints the test controls, scraped under the chart's job names.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from tests.support.chart import env_of, main_container, render
from tests.support.operator import (
    Cluster,
    OperatorProcess,
    PipelineMetrics,
    Prometheus,
    stop_operator,
    workload_manifest,
)
from tests.support.waits import wait_until

if TYPE_CHECKING:
    from iss_devstack.controlplane import ControlPlane

pytestmark = pytest.mark.controlplane

RELEASES = ("north", "south")


@dataclass
class Release:
    name: str
    pipeline: dict[str, Any]
    workloads: dict[str, tuple[str, str]]
    """component name -> (kind, name) of the workload the Pipeline restarts"""
    operator_env: dict[str, str]
    served: PipelineMetrics
    cluster: Cluster
    operator: OperatorProcess | None = None

    def restarted(self, component: str) -> str | None:
        kind, name = self.workloads[component]
        return self.cluster.restarted_at(name, kind.lower())

    def handled(self) -> int:
        assert self.operator is not None
        url = f"http://127.0.0.1:{self.operator.liveness_port}/healthz"
        with urllib.request.urlopen(url, timeout=5) as answer:
            count: int = json.load(answer)["pipelines"]
            return count


def _render(controlplane: ControlPlane, release: str, namespace: str, prometheus_url: str) -> Any:
    return render(
        controlplane,
        release=release,
        namespace=namespace,
        sets={
            "operator.pipeline.prometheusUrl": prometheus_url,
            "operator.pipeline.checkIntervalSeconds": "1",
            "operator.pipeline.enricherFreshnessSeconds": "8",
            "operator.pipeline.cooldownSeconds": "300",
        },
    )


@pytest.fixture
def releases(
    controlplane: ControlPlane,
    namespace: str,
    pipeline_crd: Path,
    prometheus: Prometheus,
    tmp_path: Path,
) -> Iterator[dict[str, Release]]:
    made: dict[str, Release] = {}
    try:
        for name in RELEASES:
            rendered = _render(controlplane, name, namespace, prometheus.url)
            pipeline = rendered.of_kind("Pipeline")[0]
            env = env_of(main_container(rendered.component("Deployment", "operator")))
            served = PipelineMetrics()
            cluster = Cluster(controlplane, namespace)
            workloads: dict[str, tuple[str, str]] = {}
            for component in pipeline["spec"]["components"]:
                kind, workload = component["workload"]["kind"], component["workload"]["name"]
                workloads[component["name"]] = (kind, workload)
                cluster.kubectl("apply", "-f", "-", input=workload_manifest(workload, kind))
                # The chart's queries select namespace and job: scrape under exactly those.
                prometheus.add_target(workload, served.address, {"namespace": namespace})
            made[name] = Release(
                name,
                pipeline,
                workloads,
                {k: v for k, v in env.items() if isinstance(v, str)},
                served,
                cluster,
            )
        for release in made.values():
            for _kind, workload in release.workloads.values():
                prometheus.wait_for(f'up{{namespace="{namespace}",job="{workload}"}} == 1')
        for release in made.values():
            release.operator = OperatorProcess(
                controlplane,
                namespace,
                tmp_path / f"operator-{release.name}.log",
                ISS_OPERATOR_PIPELINE_SELECTOR=release.operator_env[
                    "ISS_OPERATOR_PIPELINE_SELECTOR"
                ],
                ISS_OPERATOR_LEASE_NAME=release.operator_env["ISS_OPERATOR_LEASE_NAME"],
            ).start()
            release.cluster.apply_pipeline(yaml.safe_dump(release.pipeline))
        yield made
    finally:
        for release in made.values():
            if release.operator is not None:
                stop_operator(release.cluster, release.operator)
            release.served.close()


def test_the_chart_scopes_each_release_to_its_own_pipeline_lease_and_series(
    releases: dict[str, Release],
) -> None:
    north, south = releases["north"], releases["south"]
    assert (
        north.operator_env["ISS_OPERATOR_LEASE_NAME"]
        != (south.operator_env["ISS_OPERATOR_LEASE_NAME"])
    )
    for release in (north, south):
        labels = release.pipeline["metadata"]["labels"]
        for term in release.operator_env["ISS_OPERATOR_PIPELINE_SELECTOR"].split(","):
            key, value = term.split("=")
            assert labels[key] == value
        for component in release.pipeline["spec"]["components"]:
            for probe in ("freshness", "lag", "upstream"):
                if probe in component:
                    query = component[probe]["query"]
                    assert f'job="{component["workload"]["name"]}"' in query
                    assert f'namespace="{release.cluster.namespace}"' in query


def test_freezing_one_releases_enricher_restarts_only_that_enricher(
    releases: dict[str, Release],
) -> None:
    north, south = releases["north"], releases["south"]
    for release in (north, south):
        release.cluster.wait_phase(release.pipeline["metadata"]["name"], "Healthy", timeout=60)
    wait_until(lambda: north.handled() == 1 and south.handled() == 1, what="one Pipeline each")
    # Each Pipeline carries its own operator's finalizer only, and keeps it: with a shared
    # finalizer name the other operator would strip it and the two would patch it forever.
    for _ in range(3):
        for release in (north, south):
            name = release.pipeline["metadata"]["name"]
            lease = release.operator_env["ISS_OPERATOR_LEASE_NAME"]
            meta = release.cluster.get("pipeline", name)["metadata"]
            assert meta.get("finalizers") == [f"iss-tracker.io/{lease}"]
        time.sleep(1)

    north.served.storing = False
    wait_until(lambda: north.restarted("enricher"), timeout=60, what="north's enricher restart")
    north_status = north.cluster.status(north.pipeline["metadata"]["name"])
    assert [r["component"] for r in north_status["restartHistory"]] == ["enricher"]

    south_status = south.cluster.status(south.pipeline["metadata"]["name"])
    assert south_status["phase"] == "Healthy"
    assert south_status["restartsLastHour"] == 0
    assert south.restarted("enricher") is None
    assert south.restarted("producer") is None
    assert north.restarted("producer") is None
    # Each operator still handles one Pipeline: the other release's is not its business.
    assert (north.handled(), south.handled()) == (1, 1)
