"""Operator benchmark: restart latency, API requests per check, memory with 50 Pipelines.

    .venv/bin/python benchmarks/operator_bench.py [--rounds 5] [--pipelines 50]

Starts its own control plane (etcd, kube-apiserver, kube-controller-manager) and Prometheus
from iss_devstack in a temporary folder, serves producer/enricher metrics it controls, and
runs the real ``iss-operator`` process against them. Bounded: about three minutes.

1. Latency: the stored-data gauge freezes at t0; with threshold T the data is stale from t0+T.
   Measured: the moment the enricher Deployment carries a new restartedAt annotation, minus
   t0+T (polled every 20 ms). Run with checkIntervalSeconds 1 and 5.
2. API requests per check: with N healthy Pipelines, the change of the API server's own
   ``apiserver_request_total`` for pipelines, events and kopfpeerings over a window, divided by
   the change of the operator's ``iss_operator_checks_total``.
3. Resident memory (VmRSS) and CPU of the operator with 0 and N Pipelines.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parents[1]))

from iss_devstack.controlplane import ControlPlane
from iss_devstack.prometheus import Prometheus
from iss_devstack.settings import DevstackSettings
from tests.iss_operator.fixtures import (
    PEERING_CRD,
    PIPELINE_CRD,
    Cluster,
    OperatorProcess,
    PipelineMetrics,
    deployment_manifest,
    pipeline_manifest,
    wait_until,
)

THRESHOLD = 8.0
REQUEST = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$")


def api_requests(plane: ControlPlane) -> Counter[str]:
    """apiserver_request_total summed by resource and verb, for the operator's resources."""
    counts: Counter[str] = Counter()
    for line in plane.kubectl("get", "--raw", "/metrics").stdout.splitlines():
        match = REQUEST.match(line)
        if not match:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"]))
        if labels.get("resource") in {"pipelines", "events", "kopfpeerings"}:
            key = f"{labels['verb']} {labels['resource']}"
            if labels.get("subresource"):
                key += f"/{labels['subresource']}"
            counts[key] += int(float(match["value"]))
    return counts


def checks_done(operator: OperatorProcess) -> float:
    text = (
        urllib.request.urlopen(f"http://127.0.0.1:{operator.metrics_port}/metrics", timeout=5)
        .read()
        .decode()
    )
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("iss_operator_checks_total{")
    )


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, clock ticks of 10 ms


def measure_latency(
    cluster: Cluster,
    served: PipelineMetrics,
    prometheus: Prometheus,
    job: str,
    interval: int,
    rounds: int,
) -> list[float]:
    name = f"latency-{interval}"
    cluster.apply_pipeline(
        pipeline_manifest(
            name,
            prometheus.url,
            job,
            checkIntervalSeconds=interval,
            restartPolicy={"cooldownSeconds": 0, "maxRestartsPerHour": 100},
        )
    )
    latencies = []
    for _ in range(rounds):
        served.storing = True
        cluster.wait_phase(name, "Healthy", timeout=60)
        before = cluster.restarted_at("iss-enricher")
        time.sleep(1.0)
        t0 = time.time()
        served.storing = False
        stale_from = t0 + THRESHOLD
        wait_until(
            lambda b=before: cluster.restarted_at("iss-enricher") != b,  # type: ignore[misc]
            timeout=THRESHOLD + interval + 30,
            interval=0.02,
            what="restart",
        )
        latencies.append(time.time() - stale_from)
    sys.stderr.write(cluster.kubectl("get", "pipelines", "-o", "wide").stdout)
    sys.stderr.write(
        cluster.kubectl("get", "events", "--field-selector", f"involvedObject.name={name}").stdout
    )
    served.storing = True
    cluster.kubectl("delete", "pipeline", name, "--wait=true", "--timeout=30s")
    cluster.pipelines.remove(name)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pipelines", type=int, default=50)
    parser.add_argument("--window", type=float, default=20.0, help="seconds of steady state")
    args = parser.parse_args()

    settings = DevstackSettings()
    with tempfile.TemporaryDirectory(prefix="operator-bench-") as tmp:
        root = Path(tmp)
        plane = ControlPlane.for_tests(settings, root / "controlplane")
        prometheus = Prometheus.for_tests(settings, root / "prometheus")
        (root / "prometheus").mkdir()
        plane.start()
        prometheus.start()
        served = PipelineMetrics()
        operator: OperatorProcess | None = None
        try:
            for crd in (PIPELINE_CRD, PEERING_CRD):
                plane.kubectl("apply", "--server-side", "-f", str(crd))
            plane.kubectl(
                "wait",
                "--for=condition=Established",
                "--timeout=60s",
                "crd/pipelines.iss-tracker.io",
                "crd/kopfpeerings.kopf.dev",
            )
            plane.create_namespace("bench")
            cluster = Cluster(plane, "bench")
            for name in ("iss-producer", "iss-enricher"):
                cluster.kubectl("apply", "-f", "-", input=deployment_manifest(name))
            cluster.kubectl(
                "apply",
                "-f",
                "-",
                input=yaml.safe_dump(
                    {
                        "apiVersion": "kopf.dev/v1",
                        "kind": "KopfPeering",
                        "metadata": {"name": "iss-operator"},
                    }
                ),
            )
            job = "bench"
            prometheus.add_target(job, served.address)
            prometheus.wait_for(
                f'iss_enricher_last_committed_event_timestamp_seconds{{job="{job}"}}'
            )
            operator = OperatorProcess(plane, "bench", root / "operator.log").start()
            assert operator.process is not None
            pid = operator.process.pid
            wait_until(lambda: "Resuming operations" in operator.log(), what="operator up")
            time.sleep(3)
            idle_rss = rss_mib(pid)

            results: dict[str, object] = {"freshness_threshold_s": THRESHOLD}
            for interval in (1, 5):
                latencies = measure_latency(cluster, served, prometheus, job, interval, args.rounds)
                results[f"threshold_to_patch_s_interval_{interval}s"] = {
                    "median": round(statistics.median(latencies), 3),
                    "max": round(max(latencies), 3),
                    "all": [round(x, 3) for x in latencies],
                    "goal_max": interval + 1,
                }

            manifests = [
                pipeline_manifest(f"p{i:03d}", prometheus.url, job, checkIntervalSeconds=5)
                for i in range(args.pipelines)
            ]
            cluster.kubectl("apply", "-f", "-", input="---\n".join(manifests))
            cluster.pipelines.extend(f"p{i:03d}" for i in range(args.pipelines))
            wait_until(
                lambda: all(
                    (item.get("status") or {}).get("phase") == "Healthy"
                    for item in json.loads(
                        cluster.kubectl("get", "pipelines", "-o", "json").stdout
                    )["items"]
                ),
                timeout=120,
                interval=1.0,
                what="all Pipelines Healthy",
            )
            time.sleep(6)
            requests_before, checks_before = api_requests(plane), checks_done(operator)
            cpu_before = cpu_seconds(pid)
            time.sleep(args.window)
            requests_after, checks_after = api_requests(plane), checks_done(operator)
            cpu_after = cpu_seconds(pid)
            checks = checks_after - checks_before
            delta = requests_after - requests_before
            per_check = {key: round(value / checks, 3) for key, value in sorted(delta.items())}
            results["steady_state"] = {
                "pipelines": args.pipelines,
                "check_interval_s": 5,
                "window_s": args.window,
                "checks": checks,
                "api_requests_by_kind": dict(sorted(delta.items())),
                "api_requests_per_check": per_check,
                "api_requests_per_check_total": round(sum(delta.values()) / checks, 3),
                "operator_cpu_percent_of_one_core": round(
                    100 * (cpu_after - cpu_before) / args.window, 1
                ),
            }
            results["rss_mib"] = {
                "idle": round(idle_rss, 1),
                f"{args.pipelines}_pipelines": round(rss_mib(pid), 1),
            }
            print(json.dumps(results, indent=2))
        finally:
            if operator is not None:
                names = list(cluster.pipelines) if "cluster" in locals() else []
                if names:
                    cluster.kubectl(
                        "delete", "pipelines", "--all", "--wait=true", "--timeout=60s", check=False
                    )
                operator.stop()
            served.close()
            prometheus.stop()
            plane.stop()


if __name__ == "__main__":
    main()
