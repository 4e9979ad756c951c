"""The operator survives its surroundings: API-server and etcd outages, a frozen API server.

One control plane of this module's own (the outages would break everyone else's) and one
operator process serve every case, in order: the operator must come out of each outage
still checking, with no restart of its own.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest

from iss_devstack.controlplane import ControlPlane
from iss_devstack.settings import DevstackSettings
from tests.support.operator import (
    Cluster,
    OperatorProcess,
    PipelineMetrics,
    Prometheus,
    apply_crds,
    pipeline_manifest,
    prepare_cluster,
    stop_operator,
)
from tests.support.waits import wait_until

pytestmark = [pytest.mark.controlplane, pytest.mark.soak]

INTERVAL = 5
"""checkIntervalSeconds of the Pipeline: recovery must take at most this plus 5 s."""
THRESHOLD = 8


@dataclass
class Stack:
    plane: ControlPlane
    cluster: Cluster
    served: PipelineMetrics
    operator: OperatorProcess
    pipeline: str


def healthz(operator: OperatorProcess) -> tuple[int, dict[str, object]]:
    url = f"http://127.0.0.1:{operator.liveness_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture(scope="module")
def stack(
    devstack_settings: DevstackSettings,
    prometheus: Prometheus,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    plane = ControlPlane.for_tests(devstack_settings, tmp_path_factory.mktemp("outage-plane"))
    plane.start()
    served = PipelineMetrics()
    operator: OperatorProcess | None = None
    cluster: Cluster | None = None
    try:
        apply_crds(plane)
        plane.create_namespace("outages")
        cluster = prepare_cluster(plane, "outages")
        job = "pipeline-outages"
        prometheus.add_target(job, served.address)
        prometheus.wait_for(f'iss_enricher_last_committed_event_timestamp_seconds{{job="{job}"}}')
        log = tmp_path_factory.mktemp("outage-operator") / "operator.log"
        operator = OperatorProcess(plane, "outages", log).start()
        name = cluster.apply_pipeline(
            pipeline_manifest(
                "outages",
                prometheus.url,
                job,
                checkIntervalSeconds=INTERVAL,
                restartPolicy={"cooldownSeconds": 0, "maxRestartsPerHour": 100},
            )
        )
        cluster.wait_phase(name, "Healthy", timeout=60)
        yield Stack(plane, cluster, served, operator, name)
    finally:
        if operator is not None and cluster is not None:
            stop_operator(cluster, operator)
        served.close()
        plane.stop()


def _wall(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _serving(stack: Stack) -> float:
    """The moment the control plane answers reads from etcd again (monotonic clock), of every
    kind the operator needs: its Pipeline, its Lease and the Deployment it restarts. After an
    etcd outage the API server reconnects each kind's storage on its own, seconds apart."""
    needed = (f"pipeline/{stack.pipeline}", "lease/iss-operator", "deployment/iss-enricher")
    wait_until(
        lambda: (
            stack.cluster.kubectl("get", *needed, "--request-timeout=2s", check=False).returncode
            == 0
        ),
        timeout=120,
        interval=0.1,
        what="the API server to serve again",
    )
    return time.monotonic()


def _restarted_at(stack: Stack) -> str | None:
    return stack.cluster.restarted_at("iss-enricher")


@pytest.mark.parametrize(
    ("process", "seconds"),
    [
        ("kube-apiserver", 20),
        ("kube-apiserver", 75),
        ("kube-apiserver", 180),
        ("etcd", 20),
        ("etcd", 75),
    ],
)
def test_operator_resumes_and_restarts_a_stale_component_within_an_interval_after_an_outage(
    stack: Stack, process: str, seconds: int
) -> None:
    cluster, served, operator = stack.cluster, stack.served, stack.operator
    served.storing = True
    cluster.wait_phase(stack.pipeline, "Healthy", timeout=60)
    before = _restarted_at(stack)

    stack.plane.kill(process)
    went = time.monotonic()
    # Stale from the middle of the outage on: a restart is due the moment the API is back.
    time.sleep(min(seconds / 2, seconds - THRESHOLD - 1))
    served.storing = False
    status, report = healthz(operator)
    assert status == 200, report  # the loops keep running: an outage is no fault of ours
    time.sleep(max(seconds - (time.monotonic() - went), 0))
    reviving = time.time()
    stack.plane.revive(process)
    back = _serving(stack)

    restarted = wait_until(
        lambda: (value := _restarted_at(stack)) != before and value,
        timeout=INTERVAL + 5 + 10,
        interval=0.1,
        what=f"a restart after the {process} came back",
    )
    took = time.monotonic() - back
    served.storing = True
    assert took <= INTERVAL + 5, f"restarted {took:.1f}s after the {process} came back"
    # The restart was decided after the outage, not held from inside it (restartedAt is
    # in whole seconds).
    assert _wall(str(restarted)) >= reviving - 1, (
        f"restartedAt {restarted} is from before the recovery"
    )
    assert operator.process is not None
    assert operator.process.poll() is None, "the operator exited"
    cluster.wait_phase(stack.pipeline, "Healthy", timeout=3 * INTERVAL + THRESHOLD)
    status, report = healthz(operator)
    assert status == 200, report
    print(f"{process} down {seconds}s: restarted {took:.2f}s after it came back")


def test_sigterm_during_a_restart_patch_to_a_frozen_api_server_exits_fast_starting_nothing(
    stack: Stack,
) -> None:
    cluster, served, operator = stack.cluster, stack.served, stack.operator
    served.storing = True
    cluster.wait_phase(stack.pipeline, "Healthy", timeout=60)
    before = _restarted_at(stack)
    served.storing = False
    # Cooldown 0: once stale, every check restarts. Wait for one restart and its status,
    # then freeze the API server so that the next check's PATCH goes to a server that
    # cannot answer, and send SIGTERM while that PATCH waits.
    first = wait_until(
        lambda: (value := _restarted_at(stack)) != before and value,
        timeout=THRESHOLD + 2 * INTERVAL + 5,
        interval=0.1,
        what="the first restart",
    )
    status = wait_until(
        lambda: (
            (s := cluster.status(stack.pipeline)).get("lastDecision", {}).get("action") == "Restart"
            and s
        ),
        timeout=10,
        interval=0.1,
        what="the status of the restart",
    )
    round_started = _wall(str(status["lastCheck"]))
    time.sleep(0.5)  # the round's Events
    stack.plane.send_signal("kube-apiserver", signal.SIGSTOP)
    try:
        time.sleep(max(round_started + INTERVAL + 1.5 - time.time(), 0))
        assert operator.process is not None
        asked_wall = time.time()
        asked = time.monotonic()
        operator.process.send_signal(signal.SIGTERM)
        operator.process.wait(timeout=30)
        took = time.monotonic() - asked
    finally:
        stack.plane.send_signal("kube-apiserver", signal.SIGCONT)
    served.storing = True
    assert took <= 10, f"SIGTERM took {took:.1f}s"
    assert "restarted enricher" in operator.log()
    # Give the thawed server time to work through anything still queued. A PATCH already on
    # the wire when the server froze may still be applied when it thaws (no client can recall
    # it), so what must hold is that nothing was started after SIGTERM: every stamp the
    # operator wrote is from before it.
    time.sleep(5)
    stamp = _restarted_at(stack)
    assert stamp is not None
    assert stamp >= first
    assert _wall(stamp) <= asked_wall, "a restart was started after shutdown began"
    after_signal = operator.log().rpartition("Signal SIGTERM is received")[2]
    assert "restarted enricher" not in after_signal
    last_check = _wall(str(cluster.status(stack.pipeline)["lastCheck"]))
    assert last_check < asked_wall, "a status write landed after shutdown began"
    print(f"SIGTERM with the API server frozen: exited in {took:.2f}s")
    # The Pipeline's clean-up (its finalizer) needs an operator: start a fresh one.
    operator.start()
