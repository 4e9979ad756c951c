"""Operator benchmark: restart latency, outage recovery, SIGTERM exit, API requests, memory.

    .venv/bin/python benchmarks/operator_bench.py [--rounds 5] [--pipelines 50]
        [--outages 10] [--outage-seconds 20]
        [--parts latency,steady,recovery,sigterm,releases]

Starts its own control plane (etcd, kube-apiserver, kube-controller-manager) and Prometheus
from iss_devstack in a temporary folder, serves producer/enricher metrics it controls, and
runs the real ``iss-operator`` process against them. About ten minutes with every part.

1. Latency: the stored-data gauge freezes at t0; with threshold T the data is stale from t0+T.
   Measured: the moment the enricher Deployment carries a new restartedAt annotation, minus
   t0+T (polled every 20 ms). Run with checkIntervalSeconds 1 and 5.
2. API requests per check: with N healthy Pipelines, the change of the API server's own
   ``apiserver_request_total`` for the operator's resources (pipelines, events, leases,
   workloads, kopfpeerings) over a window, divided by the change of the operator's
   ``iss_operator_checks_total``.
3. Resident memory (VmRSS) and CPU of the operator with 0 and N Pipelines.
4. Recovery: kube-apiserver killed for ``--outage-seconds`` while the enricher goes stale,
   ``--outages`` times; measured from the API server answering /readyz again to the restart
   PATCH being visible (checkIntervalSeconds 5).
5. SIGTERM to exit with kube-apiserver killed, five times.
6. Releases: two operators in one namespace, as two chart releases run them (each with its own
   Lease and ``ISS_OPERATOR_PIPELINE_SELECTOR``), with N Pipelines split between them; API
   requests per check as in 2, over both operators' checks.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
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
from tests.support.benchmarks import parse_with_smoke
from tests.support.operator import (
    PIPELINE_CRD,
    Cluster,
    OperatorProcess,
    PipelineMetrics,
    pipeline_manifest,
    workload_manifest,
)
from tests.support.waits import wait_until

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
        if labels.get("resource") in {
            "pipelines",
            "events",
            "kopfpeerings",
            "leases",
            "deployments",
            "statefulsets",
        }:
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


def measure_releases(
    plane: ControlPlane,
    root: Path,
    prometheus_url: str,
    job: str,
    pipelines: int,
    window: float,
) -> dict[str, object]:
    """Two selector-scoped operators in one namespace, N Pipelines split between them."""
    cluster = Cluster(plane, "releases")
    plane.create_namespace("releases")
    for name in ("iss-producer", "iss-enricher"):
        cluster.kubectl("apply", "-f", "-", input=workload_manifest(name))
    operators: dict[str, OperatorProcess] = {}
    manifests = []
    for i in range(pipelines):
        release = "north" if i % 2 == 0 else "south"
        body = yaml.safe_load(
            pipeline_manifest(f"r{i:03d}", prometheus_url, job, checkIntervalSeconds=5)
        )
        body["metadata"]["labels"] = {"app.kubernetes.io/instance": release}
        manifests.append(yaml.safe_dump(body))
        cluster.pipelines.append(f"r{i:03d}")
    try:
        for release in ("north", "south"):
            operators[release] = OperatorProcess(
                plane,
                "releases",
                root / f"operator-{release}.log",
                ISS_OPERATOR_PIPELINE_SELECTOR=f"app.kubernetes.io/instance={release}",
                ISS_OPERATOR_LEASE_NAME=f"{release}-operator",
            ).start()
        cluster.kubectl("apply", "-f", "-", input="---\n".join(manifests))
        wait_until(
            lambda: all(
                (item.get("status") or {}).get("phase") == "Healthy"
                for item in json.loads(cluster.kubectl("get", "pipelines", "-o", "json").stdout)[
                    "items"
                ]
            ),
            timeout=180,
            interval=1.0,
            what="all Pipelines of both releases Healthy",
        )
        time.sleep(6)
        requests_before = api_requests(plane)
        checks_before = {r: checks_done(o) for r, o in operators.items()}
        time.sleep(window)
        requests_after = api_requests(plane)
        checks = {r: checks_done(o) - checks_before[r] for r, o in operators.items()}
        delta = requests_after - requests_before
        total = sum(checks.values())
        return {
            "pipelines": pipelines,
            "operators": len(operators),
            "check_interval_s": 5,
            "window_s": window,
            "checks_by_operator": checks,
            "api_requests_by_kind": dict(sorted(delta.items())),
            "api_requests_per_check_total": round(sum(delta.values()) / total, 3),
        }
    finally:
        cluster.kubectl("delete", "pipelines", "--all", "--wait=true", "--timeout=60s", check=False)
        for operator in operators.values():
            operator.stop()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, clock ticks of 10 ms


def apply_unthrottled(
    cluster: Cluster, prometheus: Prometheus, job: str, name: str, interval: int
) -> None:
    """A Pipeline checked every `interval` seconds whose restarts no cooldown or budget holds."""
    cluster.apply_pipeline(
        pipeline_manifest(
            name,
            prometheus.url,
            job,
            checkIntervalSeconds=interval,
            restartPolicy={"cooldownSeconds": 0, "maxRestartsPerHour": 100},
        )
    )


def measure_latency(
    cluster: Cluster,
    served: PipelineMetrics,
    prometheus: Prometheus,
    job: str,
    interval: int,
    rounds: int,
) -> list[float]:
    name = f"latency-{interval}"
    apply_unthrottled(cluster, prometheus, job, name, interval)
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


def measure_recovery(
    plane: ControlPlane,
    cluster: Cluster,
    served: PipelineMetrics,
    prometheus: Prometheus,
    job: str,
    outages: int,
    seconds: float,
) -> list[float]:
    """Seconds from the API server serving again to the stale enricher's restart."""
    name = "recovery"
    interval = 5
    apply_unthrottled(cluster, prometheus, job, name, interval)
    took = []
    for _ in range(outages):
        served.storing = True
        cluster.wait_phase(name, "Healthy", timeout=60)
        before = cluster.restarted_at("iss-enricher")
        plane.kill("kube-apiserver")
        time.sleep(seconds / 2)
        served.storing = False
        time.sleep(seconds / 2)
        plane.revive("kube-apiserver")
        back = time.monotonic()
        wait_until(
            lambda b=before: cluster.restarted_at("iss-enricher") != b,  # type: ignore[misc]
            timeout=interval + 30,
            interval=0.05,
            what="restart after the outage",
        )
        took.append(time.monotonic() - back)
    served.storing = True
    cluster.kubectl("delete", "pipeline", name, "--wait=true", "--timeout=30s")
    cluster.pipelines.remove(name)
    return took


def measure_sigterm(plane: ControlPlane, operator: OperatorProcess, rounds: int) -> list[float]:
    """Seconds from SIGTERM to exit while kube-apiserver is down; the operator restarts after."""
    took = []
    for _ in range(rounds):
        assert operator.process is not None
        time.sleep(3)
        plane.kill("kube-apiserver")
        time.sleep(5)
        asked = time.monotonic()
        operator.process.send_signal(signal.SIGTERM)
        operator.process.wait(timeout=120)
        took.append(time.monotonic() - asked)
        plane.revive("kube-apiserver")
        operator.start()
    return took


def distribution(values: list[float]) -> dict[str, object]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "min": round(ordered[0], 2),
        "median": round(statistics.median(ordered), 2),
        "p90": round(ordered[max(int(0.9 * len(ordered)) - 1, 0)], 2),
        "max": round(ordered[-1], 2),
        "all": [round(x, 2) for x in values],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pipelines", type=int, default=50)
    parser.add_argument("--window", type=float, default=20.0, help="seconds of steady state")
    parser.add_argument("--outages", type=int, default=10)
    parser.add_argument("--outage-seconds", type=float, default=20.0)
    parser.add_argument("--parts", default="latency,steady,recovery,sigterm,releases")
    args = parse_with_smoke(
        parser, rounds=1, pipelines=3, window=6.0, outages=1, outage_seconds=3.0
    )
    parts = set(args.parts.split(","))

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
        cluster = Cluster(plane, "bench")
        try:
            plane.kubectl("apply", "--server-side", "-f", str(PIPELINE_CRD))
            plane.kubectl(
                "wait",
                "--for=condition=Established",
                "--timeout=60s",
                "crd/pipelines.iss-tracker.io",
            )
            plane.create_namespace("bench")
            for name in ("iss-producer", "iss-enricher"):
                cluster.kubectl("apply", "-f", "-", input=workload_manifest(name))
            job = "bench"
            prometheus.add_target(job, served.address)
            prometheus.wait_for(
                f'iss_enricher_last_committed_event_timestamp_seconds{{job="{job}"}}'
            )
            operator = OperatorProcess(plane, "bench", root / "operator.log").start()
            assert operator.process is not None
            pid = operator.process.pid
            wait_until(lambda: "holding the lease" in operator.log(), what="operator up")
            time.sleep(3)
            idle_rss = rss_mib(pid)

            results: dict[str, object] = {"freshness_threshold_s": THRESHOLD}
            if "latency" in parts:
                for interval in (1, 5):
                    latencies = measure_latency(
                        cluster, served, prometheus, job, interval, args.rounds
                    )
                    results[f"threshold_to_patch_s_interval_{interval}s"] = {
                        "median": round(statistics.median(latencies), 3),
                        "max": round(max(latencies), 3),
                        "all": [round(x, 3) for x in latencies],
                        "goal_max": interval + 1,
                    }
            if "recovery" in parts:
                recovery = measure_recovery(
                    plane, cluster, served, prometheus, job, args.outages, args.outage_seconds
                )
                results["recovery_s_after_apiserver_outage"] = {
                    "outage_s": args.outage_seconds,
                    "check_interval_s": 5,
                    **distribution(recovery),
                }
            if "sigterm" in parts:
                results["sigterm_to_exit_s_apiserver_down"] = distribution(
                    measure_sigterm(plane, operator, 5)
                )
                assert operator.process is not None
                pid = operator.process.pid
                time.sleep(5)

            if "steady" in parts:
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
            if "releases" in parts:
                # The single operator above goes first: the counters are the API server's own.
                if cluster.pipelines:
                    cluster.kubectl(
                        "delete", "pipelines", "--all", "--wait=true", "--timeout=60s", check=False
                    )
                    cluster.pipelines.clear()
                operator.stop()
                results["two_releases_steady_state"] = measure_releases(
                    plane, root, prometheus.url, job, args.pipelines, args.window
                )
            print(json.dumps(results, indent=2))
        finally:
            if operator is not None:
                if cluster.pipelines:
                    cluster.kubectl(
                        "delete", "pipelines", "--all", "--wait=true", "--timeout=60s", check=False
                    )
                operator.stop()
            served.close()
            prometheus.stop()
            plane.stop()


if __name__ == "__main__":
    main()
