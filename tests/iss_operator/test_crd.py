from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.operator import Cluster, pipeline_manifest

pytestmark = pytest.mark.controlplane

EXAMPLE = Path(__file__).parents[2] / "k8s" / "examples" / "pipeline.yaml"


def _mutated(change: Any) -> str:
    manifest = yaml.safe_load(pipeline_manifest("bad", "http://127.0.0.1:9", "job"))
    change(manifest["spec"])
    return yaml.safe_dump(manifest)


def _two_producers(spec: dict[str, Any]) -> None:
    spec["components"][1]["role"] = "producer"
    spec["components"][1].pop("upstream", None)


INVALID = {
    "no components": (lambda s: s.pop("components"), "components"),
    "empty components": (lambda s: s.update(components=[]), "components"),
    "unknown role": (lambda s: s["components"][0].update(role="database"), "role"),
    "DaemonSet workload": (
        lambda s: s["components"][0]["workload"].update(kind="DaemonSet"),
        "kind",
    ),
    "interval of zero": (lambda s: s.update(checkIntervalSeconds=0), "checkIntervalSeconds"),
    "URL without scheme": (lambda s: s["prometheus"].update(url="prometheus:9090"), "url"),
    "two producers": (_two_producers, "at most one component may have role producer"),
    "upstream on the enricher": (
        lambda s: s["components"][1].update(upstream={"query": "x"}),
        "upstream applies to the producer only",
    ),
    "cooldown cap below cooldown": (
        lambda s: s.update(restartPolicy={"cooldownSeconds": 600, "maxCooldownSeconds": 60}),
        "maxCooldownSeconds must be >= cooldownSeconds",
    ),
    "negative budget": (
        lambda s: s.update(restartPolicy={"maxRestartsPerHour": -1}),
        "maxRestartsPerHour",
    ),
    "bad component name": (lambda s: s["components"][0].update(name="Producer_1"), "name"),
    "timeout of zero": (lambda s: s["prometheus"].update(timeoutSeconds=0), "timeoutSeconds"),
    "whitespace-only query": (
        lambda s: s["components"][0]["freshness"].update(query="   "),
        "query",
    ),
    "300-character host label": (
        lambda s: s["prometheus"].update(url=f"http://{'a' * 300}:9090"),
        "url",
    ),
    "port 0": (lambda s: s["prometheus"].update(url="http://prometheus:0"), "port must be 1 to"),
    "port 65536": (
        lambda s: s["prometheus"].update(url="http://prometheus:65536"),
        "port must be 1 to 65535",
    ),
    "credentials in the URL": (
        lambda s: s["prometheus"].update(url="http://user:pw@prometheus:9090"),
        "url",
    ),
    "missing freshness query": (
        lambda s: s["components"][0].update(freshness={"thresholdSeconds": 5}),
        "query",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_api_server_rejects_invalid_specs(cluster: Cluster, case: str) -> None:
    change, expected = INVALID[case]
    result = cluster.kubectl("apply", "-f", "-", input=_mutated(change), check=False)
    assert result.returncode != 0, f"{case} was accepted"
    assert "invalid" in result.stderr.lower()
    assert expected in result.stderr
    assert cluster.kubectl("get", "pipelines", "-o", "name").stdout.strip() == ""


def test_example_is_accepted_and_defaults_are_filled_in(cluster: Cluster) -> None:
    cluster.kubectl("apply", "-f", str(EXAMPLE))
    spec = cluster.get("pipeline", "iss")["spec"]
    assert spec["components"][0]["workload"] == {"kind": "Deployment", "name": "iss-producer"}
    minimal = yaml.safe_load(pipeline_manifest("defaults", "http://127.0.0.1:9", "job"))
    minimal["spec"].pop("restartPolicy")
    minimal["spec"].pop("checkIntervalSeconds")
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(minimal))
    spec = cluster.get("pipeline", "defaults")["spec"]
    assert spec["checkIntervalSeconds"] == 10
    assert spec["restartPolicy"] == {
        "cooldownSeconds": 120,
        "maxRestartsPerHour": 3,
        "backoffMultiplier": 2,
        "maxCooldownSeconds": 1800,
    }
    assert spec["paused"] is False
    assert spec["dryRun"] is False


def test_kubectl_finds_pipelines_by_short_name_and_category(cluster: Cluster) -> None:
    cluster.kubectl("apply", "-f", str(EXAMPLE))
    for alias in ("pipelines", "pl", "pipe", "iss-tracker"):
        out = cluster.kubectl("get", alias, "-o", "name").stdout
        assert "pipeline.iss-tracker.io/iss" in out, alias


@pytest.mark.parametrize(
    "url",
    [
        "http://prometheus-server.monitoring:9090",
        "https://prometheus.example.org/prefix",
        "http://127.0.0.1:9090",
        "http://[::1]:9090",
        "http://prometheus:65535/",
    ],
)
def test_api_server_accepts_every_url_the_operator_can_use(cluster: Cluster, url: str) -> None:
    def change(spec: dict[str, Any]) -> None:
        spec["prometheus"]["url"] = url
        spec["prometheus"]["timeoutSeconds"] = 0.1

    cluster.kubectl("apply", "-f", "-", input=_mutated(change))
    assert cluster.get("pipeline", "bad")["spec"]["prometheus"]["url"] == url
