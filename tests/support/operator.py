"""The operator for the tests and its benchmark: metrics the tests control, Pipelines and workloads
in a namespace of the control plane, the real `iss-operator` process, and their fixtures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from tests.support.ports import free_port
from tests.support.waits import wait_until

REPO = Path(__file__).parents[2]
CRD_DIR = REPO / "k8s" / "crds"
PIPELINE_CRD = CRD_DIR / "pipelines.iss-tracker.io.yaml"


class ControlPlane(Protocol):
    @property
    def kubeconfig(self) -> Path: ...

    @property
    def env(self) -> dict[str, str]: ...

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]: ...


class Prometheus(Protocol):
    @property
    def url(self) -> str: ...

    def add_target(self, job: str, address: str, labels: dict[str, str] | None = None) -> None: ...

    def wait_for(self, expr: str, timeout: float = 30) -> list[dict[str, Any]]: ...


class PipelineMetrics:
    """Producer and enricher metrics served on a local port, with switches for the tests.

    ``publishing`` and ``storing`` keep the freshness gauges at "now"; switched off, the gauge
    freezes, so the age grows from zero as it would in a real outage. ``upstream_failing``
    turns source fetches into errors.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.last_publish = Gauge(
            "iss_producer_last_publish_timestamp_seconds", "", registry=self.registry
        )
        self.last_committed = Gauge(
            "iss_enricher_last_committed_event_timestamp_seconds", "", registry=self.registry
        )
        self.lag = Gauge(
            "iss_enricher_consumer_lag_messages",
            "",
            ["topic", "partition"],
            registry=self.registry,
        )
        self.fetches = Counter(
            "iss_producer_fetches", "", ["source", "outcome"], registry=self.registry
        )
        self.publishing = True
        self.storing = True
        self.upstream_failing = False
        self._frozen_publish = 0.0
        self._frozen_commit = 0.0
        self.lag.labels("iss.positions.raw", "0").set(3)
        self.fetches.labels("wheretheiss", "ok")
        self.fetches.labels("wheretheiss", "http_error")
        self._stop = threading.Event()
        self._server, _ = start_http_server(0, addr="127.0.0.1", registry=self.registry)
        self.port: int = self._server.server_address[1]
        self._tick()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _tick(self) -> None:
        now = time.time()
        if self.publishing:
            self._frozen_publish = 0.0
        else:
            self._frozen_publish = self._frozen_publish or now
        if self.storing:
            self._frozen_commit = 0.0
        else:
            self._frozen_commit = self._frozen_commit or now
        self.last_publish.set(self._frozen_publish or now)
        self.last_committed.set(self._frozen_commit or now)
        if self.upstream_failing:
            self.fetches.labels("wheretheiss", "http_error").inc()
        elif self.publishing:
            self.fetches.labels("wheretheiss", "ok").inc()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._tick()

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()


def pipeline_manifest(
    name: str, prometheus_url: str, job: str, *, enricher_kind: str = "Deployment", **spec: Any
) -> str:
    """A Pipeline over the two workloads whose queries read only this test's scrape job.

    The producer is a Deployment; the enricher a Deployment unless ``enricher_kind`` says
    StatefulSet. Keys of ``spec`` replace (or, for mappings, update) the defaults.
    """
    sel = f'{{job="{job}"}}'
    body: dict[str, Any] = {
        "prometheus": {"url": prometheus_url, "timeoutSeconds": 2},
        "checkIntervalSeconds": 1,
        "restartPolicy": {"cooldownSeconds": 300, "maxRestartsPerHour": 3},
        "components": [
            {
                "name": "producer",
                "role": "producer",
                "workload": {"kind": "Deployment", "name": "iss-producer"},
                "freshness": {
                    "query": f"time() - max(iss_producer_last_publish_timestamp_seconds{sel})",
                    "thresholdSeconds": 8,
                },
                "upstream": {
                    "query": (
                        f'sum(rate(iss_producer_fetches_total{{job="{job}",outcome!="ok"}}[5s]))'
                        f" / clamp_min(sum(rate(iss_producer_fetches_total{sel}[5s])), 1e-9)"
                    ),
                    "failureRatioThreshold": 0.9,
                },
            },
            {
                "name": "enricher",
                "role": "enricher",
                "workload": {"kind": enricher_kind, "name": "iss-enricher"},
                "freshness": {
                    "query": (
                        f"time() - max(iss_enricher_last_committed_event_timestamp_seconds{sel})"
                    ),
                    "thresholdSeconds": 8,
                },
                "lag": {
                    "query": f"sum(iss_enricher_consumer_lag_messages{sel})",
                    "thresholdMessages": 1000,
                },
            },
        ],
    }
    for key, value in spec.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
    return yaml.safe_dump(
        {
            "apiVersion": "iss-tracker.io/v1alpha1",
            "kind": "Pipeline",
            "metadata": {"name": name},
            "spec": body,
        }
    )


def workload_manifest(name: str, kind: str = "Deployment") -> str:
    """A one-replica Deployment or StatefulSet whose pods never run (no scheduler here)."""
    labels = {"app.kubernetes.io/name": name}
    spec: dict[str, Any] = {
        "replicas": 1,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "main", "image": "registry.invalid/x:1"}]},
        },
    }
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return yaml.safe_dump(
        {
            "apiVersion": "apps/v1",
            "kind": kind,
            "metadata": {"name": name, "labels": labels},
            "spec": spec,
        }
    )


@dataclass
class Cluster:
    """kubectl for one test namespace, with the reads the operator tests need."""

    controlplane: ControlPlane
    namespace: str
    pipelines: list[str] = field(default_factory=list)

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return self.controlplane.kubectl("-n", self.namespace, *args, input=input, check=check)

    def get(self, kind: str, name: str) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.kubectl("get", kind, name, "-o", "json").stdout)
        return result

    def status(self, pipeline: str) -> dict[str, Any]:
        status: dict[str, Any] = self.get("pipeline", pipeline).get("status") or {}
        return status

    def restarted_at(self, deployment: str, kind: str = "deployment") -> str | None:
        template = self.get(kind, deployment)["spec"]["template"]
        annotations = template.get("metadata", {}).get("annotations") or {}
        value: str | None = annotations.get("kubectl.kubernetes.io/restartedAt")
        return value

    def replicasets(self, deployment: str) -> list[str]:
        out = self.kubectl(
            "get", "replicasets", "-l", f"app.kubernetes.io/name={deployment}", "-o", "json"
        ).stdout
        return [item["metadata"]["name"] for item in json.loads(out)["items"]]

    def events(self, pipeline: str) -> list[dict[str, Any]]:
        out = self.kubectl(
            "get",
            "events",
            "-o",
            "json",
            "--field-selector",
            f"involvedObject.kind=Pipeline,involvedObject.name={pipeline}",
        ).stdout
        items: list[dict[str, Any]] = json.loads(out)["items"]
        return items

    def event_reasons(self, pipeline: str) -> set[str]:
        return {str(e.get("reason")) for e in self.events(pipeline)}

    def apply_pipeline(self, manifest: str) -> str:
        name = str(yaml.safe_load(manifest)["metadata"]["name"])
        self.kubectl("apply", "-f", "-", input=manifest)
        self.pipelines.append(name)
        return name

    def wait_phase(self, pipeline: str, phase: str, timeout: float = 40) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            status = self.status(pipeline)
            return status if status.get("phase") == phase else None

        return wait_until(
            reached,
            timeout=timeout,
            what=f"phase {phase} of {pipeline}",
        )


class OperatorProcess:
    """The real ``iss-operator`` console script, scoped to one namespace."""

    def __init__(
        self,
        controlplane: ControlPlane,
        namespace: str,
        log: Path,
        *,
        command: list[str] | None = None,
        **env: str,
    ) -> None:
        self.command = command or [str(Path(sys.executable).parent / "iss-operator")]
        self.metrics_port = free_port()
        self.liveness_port = free_port()
        self.log_path = log
        self.env = {
            **os.environ,
            **controlplane.env,
            "ISS_OPERATOR_NAMESPACE": namespace,
            "ISS_OPERATOR_METRICS_HOST": "127.0.0.1",
            "ISS_OPERATOR_METRICS_PORT": str(self.metrics_port),
            "ISS_OPERATOR_LIVENESS_ENDPOINT": f"http://127.0.0.1:{self.liveness_port}/healthz",
            "ISS_OPERATOR_LOG_FORMAT": "text",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> OperatorProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def wait_serving(self, timeout: float = 60) -> OperatorProcess:
        """Wait until its metrics endpoint answers (a loaded machine can take seconds to import)."""

        def answers() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                code = self.process.returncode
                raise AssertionError(f"the operator exited {code}:\n{self.log()}")
            try:
                url = f"http://127.0.0.1:{self.metrics_port}/metrics"
                urllib.request.urlopen(url, timeout=2).close()
            except OSError:
                return False
            return True

        wait_until(answers, timeout=timeout, interval=0.2, what="the operator's metrics endpoint")
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def unhealthy_report(self) -> dict[str, object] | None:
        """The body of `/healthz` while it answers 500; None while it answers 200 or not at all."""
        url = f"http://127.0.0.1:{self.liveness_port}/healthz"
        try:
            urllib.request.urlopen(url, timeout=2).close()
        except urllib.error.HTTPError as error:
            body: dict[str, object] = json.load(error)
            return body if error.code == 500 else None
        except OSError:
            return None
        return None


def apply_crds(controlplane: ControlPlane) -> Path:
    """Apply the Pipeline CRD and wait until it is established."""
    controlplane.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(PIPELINE_CRD))
    controlplane.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s", "crd/pipelines.iss-tracker.io"
    )
    return PIPELINE_CRD


def prepare_cluster(
    controlplane: ControlPlane, namespace: str, enricher_kind: str = "Deployment"
) -> Cluster:
    """``namespace`` with the producer Deployment and the enricher workload."""
    c = Cluster(controlplane, namespace)
    c.kubectl("apply", "-f", "-", input=workload_manifest("iss-producer"))
    c.kubectl("apply", "-f", "-", input=workload_manifest("iss-enricher", enricher_kind))
    return c


def stop_operator(cluster: Cluster, process: OperatorProcess) -> None:
    """Delete the Pipelines while the operator runs (its finalizer comes off), then stop it."""
    for name in cluster.pipelines:
        cluster.kubectl("delete", "pipeline", name, "--wait=true", "--timeout=30s", check=False)
    process.stop()
    clear_finalizers(cluster)
    sys.stderr.write(f"--- operator log ---\n{process.log()[-6000:]}\n")


def clear_finalizers(cluster: Cluster) -> None:
    """Take the operator's finalizer off every Pipeline of the test, so the namespace can go."""
    for name in cluster.pipelines:
        cluster.kubectl(
            "patch",
            "pipeline",
            name,
            "--type=merge",
            "-p",
            '{"metadata":{"finalizers":null}}',
            check=False,
        )


@pytest.fixture(scope="session")
def pipeline_crd(controlplane: ControlPlane) -> Path:
    """The Pipeline CRD applied and established."""
    return apply_crds(controlplane)


@pytest.fixture
def cluster(controlplane: ControlPlane, namespace: str, pipeline_crd: Path) -> Cluster:
    """The test namespace with the two workloads and the KopfPeering object."""
    return prepare_cluster(controlplane, namespace)


@pytest.fixture
def metrics(prometheus: Prometheus, namespace: str) -> Iterator[tuple[PipelineMetrics, str]]:
    """Metrics this test controls, scraped by the real Prometheus under a job of its own."""
    served = PipelineMetrics()
    job = f"pipeline-{namespace}"
    prometheus.add_target(job, served.address)
    prometheus.wait_for(f'iss_enricher_last_committed_event_timestamp_seconds{{job="{job}"}}')
    yield served, job
    served.close()


@pytest.fixture
def operator(
    cluster: Cluster, controlplane: ControlPlane, tmp_path: Path
) -> Iterator[OperatorProcess]:
    """A running operator; Pipelines are deleted while it runs, so its finalizer comes off."""
    process = OperatorProcess(controlplane, cluster.namespace, tmp_path / "operator.log").start()
    try:
        yield process
    finally:
        stop_operator(cluster, process)


OPERATOR_RBAC = REPO / "k8s" / "operator-rbac.yaml"


def rbac_for(
    namespace: str,
    *,
    watch: bool = True,
    leases: bool = True,
    patch_workloads: bool = True,
) -> str:
    """The operator's ServiceAccount, Role and RoleBinding (k8s/operator-rbac.yaml) in
    `namespace`, optionally without `watch` on Pipelines, without Leases, or without `patch` on
    Deployments and StatefulSets."""
    documents = list(yaml.safe_load_all(OPERATOR_RBAC.read_text()))
    for document in documents:
        document["metadata"]["namespace"] = namespace
        for subject in document.get("subjects", []):
            subject["namespace"] = namespace
        for rule in document.get("rules", []):
            if not watch and rule["resources"] == ["pipelines"]:
                rule["verbs"].remove("watch")
            if not patch_workloads and "deployments" in rule["resources"]:
                rule["verbs"] = [verb for verb in rule["verbs"] if verb != "patch"]
        if not leases and "rules" in document:
            document["rules"] = [r for r in document["rules"] if r["resources"] != ["leases"]]
    return yaml.safe_dump_all(documents)


def operator_account_kubeconfig(
    cluster: Cluster, controlplane: ControlPlane, tmp_path: Path, **rbac: bool
) -> Path:
    """Apply `rbac_for(**rbac)` and write a kubeconfig holding only a token of the operator's
    ServiceAccount."""
    cluster.kubectl("apply", "-f", "-", input=rbac_for(cluster.namespace, **rbac))
    token = cluster.kubectl("create", "token", "iss-operator", "--duration=1h").stdout.strip()
    admin = yaml.safe_load(controlplane.kubeconfig.read_text())
    admin["users"] = [{"name": "iss-operator", "user": {"token": token}}]
    for context in admin["contexts"]:
        context["context"]["user"] = "iss-operator"
    path = tmp_path / "iss-operator.kubeconfig"
    path.write_text(yaml.safe_dump(admin))
    return path
