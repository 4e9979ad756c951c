"""`make cluster-up` / `make cluster-down`: the Kubernetes-native system on this one machine.

For a person without kind or minikube: the devstack's Kafka, its control plane, a real node
joined to it, every image built here and loaded into the node, and the chart installed with
`ci/local-node-values.yaml`. Everything runs in the background; `cluster-down` stops it all and
the node leaves nothing behind (the control plane's data and the images stay for next time).
"""

from __future__ import annotations

import time
from pathlib import Path

from iss_contract.topics import DEADLETTER_TOPIC, ENRICHED_TOPIC, RAW_TOPIC
from iss_devstack.controlplane import ControlPlane
from iss_devstack.errors import DevstackError
from iss_devstack.kafka import Kafka
from iss_devstack.node import Node
from iss_devstack.procs import pid_file_alive, port_open, stop_pid_file
from iss_devstack.progress import say, step
from iss_devstack.settings import REPO_ROOT, DevstackSettings

CHART = REPO_ROOT / "charts" / "iss-tracker"
VALUES = CHART / "ci" / "local-node-values.yaml"
RELEASE = "iss"
NAMESPACE = "iss-tracker"
IMAGES = ("pause", "postgres", "prometheus", "producer", "enricher", "operator", "liveview")
"""Everything the local profile's pods run, the pod sandbox included."""


def controlplane(settings: DevstackSettings) -> ControlPlane:
    """The control plane of `make cluster-up`: fixed ports, advertising the node address."""
    plane = ControlPlane.for_devstack(settings)
    plane.advertise_address = settings.node_address
    return plane


def node(settings: DevstackSettings, plane: ControlPlane) -> Node:
    from iss_devstack.images import ref

    return Node.for_devstack(settings, plane, sandbox_image=ref("pause"))


def kafka(settings: DevstackSettings) -> Kafka:
    return Kafka.for_devstack(settings)


def _started_kafka_marker(settings: DevstackSettings) -> Path:
    return settings.state_dir / "node" / "run" / "started-kafka"


def image_archives(settings: DevstackSettings) -> list[Path]:
    """Build the local images (layers reused) and `docker save` each; the archives' paths."""
    from iss_devstack.docker import Docker
    from iss_devstack.images import build_all, export, ref

    docker = Docker(settings)
    docker.start()
    build_all(settings, docker, list(IMAGES))
    return [export(ref(name), settings) for name in IMAGES]


def install_values(broker: Kafka) -> list[str]:
    """helm arguments of the local profile, with the broker address the pods reach."""
    return ["-f", str(VALUES), "--set", f"kafka.externalBootstrap={broker.node_bootstrap}"]


def up(settings: DevstackSettings) -> None:
    """Start Kafka, the control plane and the node, load the images, install the chart."""
    started = time.monotonic()
    plane = controlplane(settings)
    local = node(settings, plane)
    # Refuse a stale node before anything starts.
    stale = local.leftovers()
    if stale:
        raise DevstackError(
            "a Kubernetes node from an earlier run is still here ("
            + "; ".join(stale[:4])
            + "): run `make cluster-down` first"
        )
    archives = image_archives(settings)
    broker = kafka(settings)
    if broker.process.pid_path.exists() and port_open(broker.port):
        say(f"Kafka is already running on {broker.bootstrap}")
    else:
        broker.start()
        _started_kafka_marker(settings).parent.mkdir(parents=True, exist_ok=True)
        _started_kafka_marker(settings).write_text("cluster-up started Kafka\n")
    with step("creating topics"):
        broker.create_topic(RAW_TOPIC, 3)
        broker.create_topic(ENRICHED_TOPIC, 3)
        broker.create_topic(DEADLETTER_TOPIC, 1)
    if pid_file_alive(plane.pid_path("kube-apiserver")):
        raise DevstackError(
            f"a control plane is already running from {plane.data_dir}: run `make cluster-down`"
        )
    plane.start()
    try:
        local.start()
        for archive in archives:
            with step(f"loading {archive.name} into the node"):
                local.import_image(archive)
        with step(f"helm install {RELEASE} (namespace {NAMESPACE}; waits for every pod)"):
            plane.helm(
                "upgrade", "--install", RELEASE, str(CHART),
                "--namespace", NAMESPACE, "--create-namespace",
                *install_values(broker), "--wait", "--timeout", "10m",
                timeout=660,
            )  # fmt: skip
    except BaseException:
        say("cluster-up failed: stopping what it started (`make cluster-down` does the same)")
        down(settings)
        raise
    say(f"the cluster is up ({time.monotonic() - started:.0f}s)")
    env = plane.env
    print(
        "\n".join(
            [
                "",
                f"  export KUBECONFIG={env['KUBECONFIG']}",
                f"  export PATH={env['PATH'].split(':', 2)[0]}:$PATH",
                "",
                f"  kubectl get pipelines -n {NAMESPACE}",
                f"  kubectl get pods -n {NAMESPACE} -o wide",
                f"  kubectl port-forward -n {NAMESPACE} svc/{RELEASE}-iss-tracker-liveview "
                "8088:8088   # then http://127.0.0.1:8088/",
                f"  helm test {RELEASE} -n {NAMESPACE}",
                f"  Kafka         {broker.bootstrap} (pods: {broker.node_bootstrap})",
                f"  Logs          {local.layout.data_dir / 'logs'}, {plane.data_dir / 'logs'}",
                "",
                "  make cluster-down    stop the node, the control plane and Kafka",
                "",
            ]
        )
    )


def node_down(settings: DevstackSettings) -> None:
    """Stop the node running on this machine, whoever started it (cluster-up or a test run)."""
    from iss_devstack.node import recorded_node_dir

    plane = controlplane(settings)
    local = node(settings, plane)
    where = recorded_node_dir() or local.layout.data_dir
    with step(f"stopping the Kubernetes node in {where}"):
        removed = local.stop()
    say(f"node: removed {len(removed)} things" if removed else "no node was running")
    left = local.leftovers()
    if left:
        raise DevstackError("the node left these behind: " + "; ".join(left))


def down(settings: DevstackSettings) -> None:
    """Stop the node (it removes everything it made), the control plane, Kafka if we started it."""
    from iss_devstack.docker import stop_all

    plane = controlplane(settings)
    local = node(settings, plane)
    with step("stopping the Kubernetes node"):
        removed = local.stop()
    say(f"node: removed {len(removed)} things" if removed else "no node was running")
    stopped = plane.stop_recorded()
    say(f"stopped {', '.join(stopped)}" if stopped else "no control plane was running")
    marker = _started_kafka_marker(settings)
    if marker.exists():
        broker = kafka(settings)
        if stop_pid_file(broker.process.pid_path, 60):
            say("stopped Kafka")
        marker.unlink()
    for version in stop_all(settings):
        say(f"stopped dockerd {version}")
    left = local.leftovers()
    if left:
        raise DevstackError("the node left these behind: " + "; ".join(left))
    say("everything `make cluster-up` started is stopped")
