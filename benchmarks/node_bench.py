"""The local node with the whole release: start and stop times, install to first stored row,
frozen enricher to fresh rows again (the chart's default thresholds), memory.

`make bench-node` (as root). Starts its own Kafka, control plane and node in a temporary folder
and removes them afterwards.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from iss_devstack.cluster import CHART, IMAGES, VALUES, image_archives
from iss_devstack.controlplane import ControlPlane
from iss_devstack.docker import Docker
from iss_devstack.kafka import Kafka
from iss_devstack.node import CGROUP_ROOT, KUBEPODS, PROCESS_NAMES, Node
from iss_devstack.settings import DevstackSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

from tests.support.benchmarks import parse_with_smoke

NAMESPACE = "iss-bench"
RELEASE = "iss"
FULLNAME = f"{RELEASE}-iss-tracker"


def wait(check: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - started
        except Exception:  # not yet
            pass
        if time.monotonic() - started > timeout:
            raise SystemExit(f"{what} did not happen within {timeout:.0f}s")
        time.sleep(0.5)


def pod(plane: ControlPlane, component: str) -> dict[str, str]:
    out = plane.kubectl(
        "get", "pods", "-n", NAMESPACE, "-o", "json",
        "-l", f"app.kubernetes.io/component={component}",
    ).stdout  # fmt: skip
    items = [p for p in json.loads(out)["items"] if not p["metadata"].get("deletionTimestamp")]
    if len(items) != 1:
        return {}
    item = items[0]
    statuses = item["status"].get("containerStatuses") or [{}]
    return {
        "uid": item["metadata"]["uid"],
        "ip": item["status"].get("podIP", ""),
        "container": statuses[0].get("containerID", "").removeprefix("containerd://"),
        "ready": str(all(s.get("ready") for s in statuses)),
    }


def newest_row_age(plane: ControlPlane) -> float:
    secret = json.loads(
        plane.kubectl(
            "get", "secret", f"{FULLNAME}-db-credentials", "-n", NAMESPACE, "-o", "json"
        ).stdout
    )["data"]
    user = base64.b64decode(secret["username"]).decode()
    password = base64.b64decode(secret["password"]).decode()
    dsn = f"postgresql://{user}:{password}@{pod(plane, 'timescaledb')['ip']}:5432/iss"
    with psycopg.connect(dsn, connect_timeout=3) as conn:
        row = conn.execute("SELECT extract(epoch FROM now() - max(stored_at)) FROM positions")
        value = row.fetchone()
    return float("inf") if value is None or value[0] is None else float(value[0])


def node_memory_mib(local: Node) -> tuple[float, float]:
    """(node processes' RSS, pods' memory cgroup usage), MiB."""
    rss = 0
    for name in PROCESS_NAMES:
        try:
            pid = int(local.layout.pid_path(name).read_text())
            status = Path(f"/proc/{pid}/status").read_text()
        except (OSError, ValueError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1]) * 1024
    usage = CGROUP_ROOT / "memory" / KUBEPODS / "memory.usage_in_bytes"
    pods = int(usage.read_text()) if usage.exists() else 0
    return rss / 2**20, pods / 2**20


def measure_healing(plane: ControlPlane, local: Node, figures: dict[str, str]) -> None:
    """Memory once rows are fresh, then a frozen enricher to its new pod and fresh rows again."""
    wait(lambda: newest_row_age(plane) < 10, 120, "fresh rows")
    time.sleep(20)
    rss, pods = node_memory_mib(local)
    figures["node processes RSS (MiB)"] = f"{rss:.0f}"
    figures["release's pods, memory cgroup (MiB)"] = f"{pods:.0f}"
    # Freeze the enricher; the chart's defaults: checks every 10 s, stale after 20 s.
    frozen = pod(plane, "enricher")
    wait(
        lambda: plane.kubectl("get", "pipeline", FULLNAME, "-n", NAMESPACE, "-o",
                              "jsonpath={.status.phase}").stdout == "Healthy",
        180, "a Healthy pipeline",
    )  # fmt: skip
    freezing = time.monotonic()
    local.ctr("tasks", "kill", "--all", "--signal", "SIGSTOP", frozen["container"])
    wait(
        lambda: pod(plane, "enricher").get("uid", frozen["uid"]) != frozen["uid"],
        400, "the restarted enricher pod",
    )  # fmt: skip
    figures["frozen enricher to its new pod (s)"] = f"{time.monotonic() - freezing:.1f}"
    wait(lambda: newest_row_age(plane) < 5, 300, "fresh rows from the new pod")
    figures["frozen enricher to fresh rows again, default thresholds (s)"] = (
        f"{time.monotonic() - freezing:.1f}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    smoke = parse_with_smoke(parser, argv).smoke  # smoke: up to the first row, no healing
    settings = DevstackSettings()
    scratch = Path(tempfile.mkdtemp(prefix="iss-node-bench-"))
    engine = Docker(settings)
    engine_was_running = engine.answers()
    archives = image_archives(settings)
    if not engine_was_running:
        engine.stop()  # the images are exported: the engine this run started is not needed
    kafka = Kafka.for_tests(settings, scratch / "kafka")
    kafka.start()
    plane = ControlPlane(
        settings, scratch / "controlplane", advertise_address=settings.node_address
    )
    plane.start()
    started = time.monotonic()
    from iss_devstack.images import ref

    local = Node(
        settings, plane, scratch / "node", sandbox_image=ref("pause"),
        forwarded_ports=[kafka.node_port],
    )  # fmt: skip
    figures: dict[str, str] = {}
    try:
        local.start()
        figures["node start (s)"] = f"{time.monotonic() - started:.1f}"
        loading = time.monotonic()
        for archive in archives:
            local.import_image(archive)
        figures[f"loading {len(IMAGES)} images into the node (s)"] = (
            f"{time.monotonic() - loading:.1f}"
        )
        installing = time.monotonic()
        plane.helm(
            "install", RELEASE, str(CHART), "--namespace", NAMESPACE, "--create-namespace",
            "-f", str(VALUES), "--set", f"kafka.externalBootstrap={kafka.node_bootstrap}",
            "--wait", "--timeout", "8m", timeout=600,
        )  # fmt: skip
        figures["helm install --wait (s)"] = f"{time.monotonic() - installing:.1f}"
        wait(lambda: newest_row_age(plane) < 1e9, 300, "a first stored row")
        figures["helm install to first stored row (s)"] = f"{time.monotonic() - installing:.1f}"
        if not smoke:
            measure_healing(plane, local, figures)
    finally:
        stopping = time.monotonic()
        local.stop()
        figures["node stop (s)"] = f"{time.monotonic() - stopping:.1f}"
        figures["left behind after stop"] = str(len(local.leftovers()))
        plane.stop()
        kafka.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        width = max(len(k) for k in figures)
        print()
        for key, value in figures.items():
            print(f"  {key:<{width}}  {value}")


if __name__ == "__main__":
    main()
