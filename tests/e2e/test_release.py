"""The chart on a real node: pods run from the images built here, rows arrive, the operator heals
real stuck pods, and `helm uninstall` leaves nothing behind.

The tests share one release and run in file order: each leaves the release healthy for the
next, and the last one uninstalls it.
"""

from __future__ import annotations

import base64
import http.server
import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
import requests

from iss_devstack.cluster import CHART
from tests.support.exposition import sample_sum
from tests.support.release import FULLNAME, RELEASE, Release

pytestmark = pytest.mark.node

PIPELINE = FULLNAME


@dataclass(frozen=True)
class PodInfo:
    name: str
    uid: str
    ip: str
    container_id: str
    ready: bool


def eventually(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    describe: Callable[[], str] | None = None,
) -> None:
    """Poll `check` until it holds; fail naming `what` (and what `describe` says of the state
    it ended in) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:  # a probe that fails now may pass later
            pass
        if time.monotonic() > deadline:
            state = ""
            if describe is not None:
                try:
                    state = f"; {describe()}"
                except Exception as error:  # the description is a courtesy, not the verdict
                    state = f"; (state unreadable: {error})"
            raise AssertionError(f"{what} did not happen within {timeout:.0f}s{state}")
        time.sleep(1.0)


def pods(release: Release, component: str, instance: str = RELEASE) -> list[PodInfo]:
    """The running (not terminating) pods of one component of a release (`instance`)."""
    out = release.controlplane.kubectl(
        "get", "pods", "-n", release.namespace, "-o", "json",
        "-l", f"app.kubernetes.io/component={component},app.kubernetes.io/instance={instance}",
    ).stdout  # fmt: skip
    found = []
    for pod in json.loads(out)["items"]:
        if pod["metadata"].get("deletionTimestamp"):
            continue
        statuses = pod.get("status", {}).get("containerStatuses", [])
        conditions = {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}
        found.append(
            PodInfo(
                name=pod["metadata"]["name"],
                uid=pod["metadata"]["uid"],
                ip=pod["status"].get("podIP", ""),
                container_id=statuses[0].get("containerID", "").removeprefix("containerd://")
                if statuses
                else "",
                ready=conditions.get("Ready") == "True",
            )
        )
    return found


def one_pod(release: Release, component: str, instance: str = RELEASE) -> PodInfo:
    found = pods(release, component, instance)
    assert len(found) == 1, f"expected one {component} pod, found {[p.name for p in found]}"
    return found[0]


def pipeline_status(release: Release, name: str = PIPELINE) -> dict[str, Any]:
    out = release.controlplane.kubectl(
        "get", "pipeline", name, "-n", release.namespace, "-o", "json"
    ).stdout
    status: dict[str, Any] = json.loads(out).get("status", {})
    return status


def database_dsn(release: Release) -> str:
    """A DSN for the in-cluster PostgreSQL, at its pod's address (routed to the pod bridge)."""
    secret = json.loads(
        release.controlplane.kubectl(
            "get", "secret", f"{FULLNAME}-db-credentials", "-n", release.namespace, "-o", "json"
        ).stdout
    )["data"]
    user = base64.b64decode(secret["username"]).decode()
    password = base64.b64decode(secret["password"]).decode()
    ip = one_pod(release, "timescaledb").ip
    return f"postgresql://{user}:{password}@{ip}:5432/iss?connect_timeout=5"


def newest_row_age(release: Release) -> float:
    """Seconds since the newest stored position was observed (inf when none is stored)."""
    with psycopg.connect(database_dsn(release)) as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM now() - max(stored_at)) FROM positions"
        ).fetchone()
    return float("inf") if row is None or row[0] is None else float(row[0])


def restarts_counted(release: Release, component: str, instance: str = RELEASE) -> float:
    """A release's operators' restart counters for a component, summed over the replicas'
    metrics endpoints (only the leader restarts anything; a standby's counter stays at 0)."""
    total = 0.0
    for operator in pods(release, "operator", instance):
        text = requests.get(f"http://{operator.ip}:9103/metrics", timeout=5).text
        total += sample_sum(text, "iss_operator_restarts_total", component=component)
    return total


def restart_events(release: Release) -> int:
    """How many restarts the Pipeline's Events record (one aggregated Event, with a count)."""
    out = release.controlplane.kubectl(
        "get", "events", "-n", release.namespace, "-o", "json",
        "--field-selector", f"involvedObject.kind=Pipeline,involvedObject.name={PIPELINE}",
    ).stdout  # fmt: skip
    items = json.loads(out)["items"]
    return sum(int(e.get("count") or 1) for e in items if e["reason"] == "Restarted")


def test_helm_install_waits_until_every_pod_of_the_release_is_ready(release: Release) -> None:
    out = release.controlplane.kubectl("get", "pods", "-n", release.namespace, "-o", "json").stdout
    items = [p for p in json.loads(out)["items"] if p["status"].get("phase") != "Succeeded"]
    components = {p["metadata"]["labels"].get("app.kubernetes.io/component") for p in items}
    assert {"producer", "enricher", "timescaledb", "operator", "prometheus", "liveview"} <= (
        components
    )
    for pod in items:
        ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}.get("Ready")
        assert ready == "True", f"{pod['metadata']['name']} is not Ready"
        assert pod["spec"]["nodeName"] == release.node.name
    print(f"helm install --wait: {release.installed_seconds:.0f}s")


def test_rows_from_the_in_cluster_producer_reach_the_database_through_the_enricher(
    release: Release,
) -> None:
    eventually(lambda: newest_row_age(release) < 15, 120, "a fresh stored position")


def test_helm_test_passes(release: Release) -> None:
    out = release.helm("test", RELEASE, "--timeout", "3m", timeout=240)
    assert "Phase:          Succeeded" in out


def test_kubectl_get_pipelines_shows_healthy_with_a_real_freshness(release: Release) -> None:
    eventually(
        lambda: pipeline_status(release).get("phase") == "Healthy", 120, "a Healthy pipeline"
    )
    status = pipeline_status(release)
    assert 0 <= float(status["freshnessSeconds"]) < 20
    table = release.controlplane.kubectl("get", "pipelines", "-n", release.namespace).stdout
    assert "Healthy" in table
    assert status["freshness"] in table


def test_a_frozen_enricher_is_found_stale_and_its_pod_replaced_until_rows_are_fresh_again(
    release: Release,
) -> None:
    frozen = one_pod(release, "enricher")
    producer = one_pod(release, "producer")
    counted_before = restarts_counted(release, "enricher")
    events_before = restart_events(release)
    frozen_at = time.monotonic()
    release.node.ctr("tasks", "kill", "--all", "--signal", "SIGSTOP", frozen.container_id)

    def replaced() -> bool:
        now = pods(release, "enricher")
        return len(now) == 1 and now[0].uid != frozen.uid and now[0].ready

    eventually(replaced, 180, "the frozen enricher pod's replacement")
    eventually(lambda: newest_row_age(release) < 10, 120, "fresh rows after the restart")
    print(f"frozen enricher to fresh rows again: {time.monotonic() - frozen_at:.0f}s")
    # A frozen process ignores SIGTERM, so its pod takes the whole termination grace (15 s) to
    # go; a cooldown shorter than that lets the operator restart it once more meanwhile.
    restarts = restarts_counted(release, "enricher") - counted_before
    assert restarts >= 1
    assert restart_events(release) - events_before == restarts
    assert one_pod(release, "producer").uid == producer.uid, "the producer was restarted too"


def test_a_stopped_producer_is_the_component_restarted_not_the_enricher(
    release: Release,
) -> None:
    eventually(
        lambda: pipeline_status(release).get("phase") == "Healthy", 120, "a Healthy pipeline"
    )
    stopped = one_pod(release, "producer")
    enricher = one_pod(release, "enricher")
    release.node.ctr("tasks", "kill", "--all", "--signal", "SIGSTOP", stopped.container_id)

    def replaced() -> bool:
        now = pods(release, "producer")
        return len(now) == 1 and now[0].uid != stopped.uid and now[0].ready

    eventually(replaced, 180, "the stopped producer pod's replacement")
    eventually(lambda: newest_row_age(release) < 10, 120, "fresh rows after the restart")
    assert one_pod(release, "enricher").uid == enricher.uid, "the enricher was restarted"


class FakeUpstream:
    """A wheretheiss.at stand-in on the node address: answers positions, or 503 when failing."""

    def __init__(self, address: str) -> None:
        self.failing = False
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if upstream.failing:
                    self.send_response(503)
                    self.end_headers()
                    return
                now = time.time()
                body = json.dumps(
                    {
                        "id": 25544,
                        "latitude": 51.6 * math.sin(now / 925.0),
                        "longitude": (now / 15.4) % 360.0 - 180.0,
                        "timestamp": int(now),
                        "altitude": 420.0,
                        "velocity": 27600.0,
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((address, 0), Handler)
        self.url = f"http://{address}:{self.server.server_address[1]}/v1/satellites/25544"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstream(release: Release) -> Iterator[FakeUpstream]:
    fake = FakeUpstream(release.node.address)
    yield fake
    fake.close()


def test_helm_upgrade_with_a_changed_source_rolls_only_the_producer(
    release: Release, upstream: FakeUpstream
) -> None:
    before = {c: one_pod(release, c).uid for c in ("producer", "enricher", "timescaledb")}
    live_source = {
        "producer.extraEnv[0].name": "ISS_PRODUCER_SOURCES",
        "producer.extraEnv[0].value": "wheretheiss",
        "producer.extraEnv[1].name": "ISS_PRODUCER_WHERETHEISS_URL",
        "producer.extraEnv[1].value": upstream.url,
    }
    release.helm(
        "upgrade", RELEASE, str(CHART), *release.values(live_source),
        "--wait", "--timeout", "5m",
    )  # fmt: skip
    after = {c: one_pod(release, c).uid for c in ("producer", "enricher", "timescaledb")}
    assert after["producer"] != before["producer"], "the changed producer was not rolled"
    assert after["enricher"] == before["enricher"]
    assert after["timescaledb"] == before["timescaledb"]
    eventually(lambda: newest_row_age(release) < 10, 60, "fresh rows from the live source")

    # The upstream API fails: the producer goes stale waiting on it. Degraded, no restart.
    eventually(
        lambda: pipeline_status(release).get("phase") == "Healthy", 120, "a Healthy pipeline"
    )
    restarts_before = sum(restarts_counted(release, c) for c in ("producer", "enricher"))
    upstream.failing = True
    eventually(
        lambda: pipeline_status(release).get("phase") == "Degraded", 120, "a Degraded pipeline"
    )
    time.sleep(12)  # two more checks: still Degraded, still nothing restarted
    assert pipeline_status(release).get("phase") == "Degraded"
    assert {c: one_pod(release, c).uid for c in ("producer", "enricher")} == {
        c: after[c] for c in ("producer", "enricher")
    }
    assert sum(restarts_counted(release, c) for c in ("producer", "enricher")) == (restarts_before)

    # The fake upstream ends with this test: leave the release on its installed source.
    upstream.failing = False
    release.helm("rollback", RELEASE, "--wait", "--timeout", "5m")
    eventually(
        lambda: pipeline_status(release).get("phase") == "Healthy",
        120,
        "a Healthy pipeline after the rollback",
        describe=lambda: f"status: {pipeline_status(release)}",
    )


def operator_restarts(release: Release) -> int:
    """Container restarts of the operator's pods (the kubelet's count)."""
    out = release.controlplane.kubectl(
        "get", "pods", "-n", release.namespace, "-o", "json",
        "-l", "app.kubernetes.io/component=operator",
    ).stdout  # fmt: skip
    return sum(
        status.get("restartCount", 0)
        for pod in json.loads(out)["items"]
        for status in pod.get("status", {}).get("containerStatuses", [])
    )


def set_pipeline_verbs(release: Release, verbs: list[str]) -> None:
    """Replace the verbs the operator's Role grants on Pipelines."""
    kubectl = release.controlplane.kubectl
    role = json.loads(
        kubectl("get", "role", f"{FULLNAME}-operator", "-n", release.namespace, "-o", "json").stdout
    )
    for rule in role["rules"]:
        if rule.get("resources") == ["pipelines"]:
            rule["verbs"] = verbs
    kubectl("replace", "-f", "-", input=json.dumps(role))


def restart_operator_pods(release: Release) -> None:
    release.controlplane.kubectl(
        "delete", "pods", "-n", release.namespace, "--wait=true", "--timeout=60s",
        "-l", "app.kubernetes.io/component=operator",
    )  # fmt: skip


def test_an_operator_whose_checks_stop_fails_liveness_and_is_restarted_by_the_kubelet(
    release: Release,
) -> None:
    granted = ["get", "list", "watch", "patch"]
    # A Role that lost `list` and `watch` on Pipelines: the operators start but never see a
    # Pipeline to check. /healthz must say so, and the kubelet's liveness probe restart them.
    set_pipeline_verbs(release, ["get", "patch"])
    try:
        restart_operator_pods(release)
        before = operator_restarts(release)  # new pods: their own counts, from 0

        def unhealthy() -> bool:
            for pod in pods(release, "operator"):
                answer = requests.get(f"http://{pod.ip}:8080/healthz", timeout=5)
                problems = answer.json()["problems"] if answer.status_code == 500 else []
                if any("refused" in p and "403" in p for p in problems):
                    return True
            return False

        eventually(unhealthy, 120, "/healthz answering 500: the Pipelines list is refused")
        eventually(
            lambda: operator_restarts(release) > before, 120, "a liveness restart of the operator"
        )
    finally:
        set_pipeline_verbs(release, granted)
    restart_operator_pods(release)
    checked = pipeline_status(release).get("lastCheck")
    eventually(
        lambda: (
            pipeline_status(release).get("lastCheck") != checked
            and pipeline_status(release).get("phase") == "Healthy"
        ),
        120,
        "checks running again with list and watch granted back",
        describe=lambda: f"status: {pipeline_status(release)}",
    )
    for pod in pods(release, "operator"):
        assert requests.get(f"http://{pod.ip}:8080/healthz", timeout=5).status_code == 200


def wait_healthy(release: Release, name: str, timeout: float) -> None:
    eventually(
        lambda: pipeline_status(release, name).get("phase") == "Healthy",
        timeout,
        f"Pipeline {name} Healthy",
        describe=lambda: f"status: {pipeline_status(release, name)}",
    )


SECOND = "south"
"""A second release of the chart in the same namespace, with its own topics and group."""


def test_a_second_release_in_the_namespace_is_healed_by_its_own_operator_alone(
    release: Release,
) -> None:
    second_pipeline = f"{SECOND}-iss-tracker"
    own_kafka = {
        "kafka.topics.raw.name": f"{SECOND}.positions.raw",
        "kafka.topics.enriched.name": f"{SECOND}.positions.enriched",
        "kafka.topics.deadletter.name": f"{SECOND}.positions.deadletter",
        "enricher.consumerGroup": f"{SECOND}-enricher",
    }
    release.helm(
        "install", SECOND, str(CHART), *release.values(own_kafka), "--wait", "--timeout", "8m",
    )  # fmt: skip
    try:
        for name in (PIPELINE, second_pipeline):
            wait_healthy(release, name, 180)
        first = {c: one_pod(release, c).uid for c in ("producer", "enricher")}
        first_restarts = restarts_counted(release, "enricher")
        frozen = one_pod(release, "enricher", SECOND)
        release.node.ctr("tasks", "kill", "--all", "--signal", "SIGSTOP", frozen.container_id)

        def replaced() -> bool:
            now = pods(release, "enricher", SECOND)
            return len(now) == 1 and now[0].uid != frozen.uid and now[0].ready

        eventually(replaced, 180, f"{SECOND}'s frozen enricher pod replaced")
        assert restarts_counted(release, "enricher", SECOND) >= 1
        # The first release saw none of it: same pods, no restart counted, still Healthy.
        assert {c: one_pod(release, c).uid for c in ("producer", "enricher")} == first
        assert restarts_counted(release, "enricher") == first_restarts
        assert pipeline_status(release).get("phase") == "Healthy"
        for name in (PIPELINE, second_pipeline):
            finalizers = json.loads(
                release.controlplane.kubectl(
                    "get", "pipeline", name, "-n", release.namespace, "-o", "json"
                ).stdout
            )["metadata"].get("finalizers", [])
            assert len(finalizers) == 1, f"{name} carries {finalizers}: one operator's only"
    finally:
        release.helm("uninstall", SECOND, "--wait", "--timeout", "3m", timeout=240)
    # Uninstalling the second release deleted its Pipeline only.
    names = release.controlplane.kubectl(
        "get", "pipelines", "-n", release.namespace, "-o", "name"
    ).stdout.split()
    assert names == [f"pipeline.iss-tracker.io/{PIPELINE}"]
    wait_healthy(release, PIPELINE, 60)


def test_helm_uninstall_leaves_no_pipeline_pod_or_claim_and_the_namespace_deletes(
    release: Release,
) -> None:
    release.helm("uninstall", RELEASE, "--wait", "--timeout", "3m", timeout=240)
    kubectl = release.controlplane.kubectl

    def gone() -> bool:
        out = kubectl(
            "get", "pipelines,pods,persistentvolumeclaims", "-n", release.namespace, "-o", "name"
        ).stdout
        return out.strip() == ""

    eventually(gone, 120, "no Pipeline, pod or claim left")
    kubectl("delete", "namespace", release.namespace, "--timeout=60s", timeout=90)
    assert kubectl("get", "namespace", release.namespace, check=False).returncode != 0
    volumes = kubectl("get", "persistentvolumes", "-o", "name").stdout
    eventually(
        lambda: kubectl("get", "persistentvolumes", "-o", "name").stdout.strip() == "",
        60,
        f"the release's volumes deleted (left: {volumes})",
    )
