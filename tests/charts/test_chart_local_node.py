"""The local-node profile: every pod runs an image built by `make images`, none is pulled."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from iss_devstack.images import catalogue, ref
from tests.support.chart import CHART, Rendered, containers, env_of, render, workloads

if TYPE_CHECKING:
    from iss_devstack.controlplane import ControlPlane

pytestmark = pytest.mark.controlplane

LOCAL_NODE = CHART / "ci" / "local-node-values.yaml"
BROKER = "broker.test:19092"


@pytest.fixture(scope="module")
def local(controlplane: ControlPlane) -> Rendered:
    return render(controlplane, values_files=[LOCAL_NODE], sets={"kafka.externalBootstrap": BROKER})


def test_every_container_runs_a_locally_built_image_that_is_never_pulled(local: Rendered) -> None:
    built = {ref(image.name) for image in catalogue()}
    seen = set()
    for workload in workloads(local):
        for container in containers(workload):
            assert container["image"] in built, container["image"]
            assert container["imagePullPolicy"] == "Never", container["name"]
            seen.add(container["image"])
    assert seen >= {ref("postgres"), ref("prometheus"), ref("enricher"), ref("operator")}


def test_kafka_is_the_external_broker_given_at_install_time(local: Rendered) -> None:
    assert not local.of_kind("Kafka")
    assert not local.of_kind("KafkaTopic")
    producer = next(containers(local.component("Deployment", "producer")))
    assert BROKER in env_of(producer).values()


def test_local_profile_runs_operator_live_view_prometheus_and_the_helm_test_but_no_grafana(
    local: Rendered,
) -> None:
    components = local.components()
    assert {"operator", "liveview", "prometheus", "timescaledb"} <= components
    assert "grafana" not in components
    hooks = [o for o in local.of_kind("Pod") if "helm.sh/hook" in o["metadata"]["annotations"]]
    assert [h["metadata"]["annotations"]["helm.sh/hook"] for h in hooks] == ["test"]


def test_producer_stays_on_the_machine(local: Rendered) -> None:
    producer = next(containers(local.component("Deployment", "producer")))
    assert env_of(producer)["ISS_PRODUCER_SOURCES"] == "sgp4"


def test_database_is_configured_through_what_the_postgres_image_reads(local: Rendered) -> None:
    database = next(containers(local.component("StatefulSet", "timescaledb")))
    entrypoint = (CHART.parents[1] / "images" / "postgres" / "entrypoint.sh").read_text()
    read = set(re.findall(r"\$\{(POSTGRES_\w+|PGDATA)", entrypoint))
    assert {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "PGDATA"} <= read
    assert {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "PGDATA"} <= set(env_of(database))
    assert database["securityContext"]["readOnlyRootFilesystem"] is True


def test_local_image_tags_follow_the_project_version() -> None:
    text = LOCAL_NODE.read_text()
    tags = re.findall(r"^\s+tag: (\S+)$", text, re.MULTILINE)
    assert tags, "the profile pins its image tags"
    assert set(tags) == {ref("x").rpartition(":")[2]}, tags
