from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from iss_operator.spec import Role, SpecError, WorkloadKind, parse_spec

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).parents[2] / "k8s" / "examples" / "pipeline.yaml"


def minimal() -> dict[str, Any]:
    return {
        "prometheus": {"url": "http://prometheus:9090/"},
        "components": [
            {
                "name": "enricher",
                "role": "enricher",
                "workload": {"kind": "StatefulSet", "name": "iss-enricher"},
                "freshness": {"query": "time() - max(x)"},
            }
        ],
    }


def test_example_pipeline_parses_with_both_roles() -> None:
    spec = parse_spec(yaml.safe_load(EXAMPLE.read_text())["spec"])
    producer = spec.with_role(Role.PRODUCER)
    assert producer is not None
    assert producer.upstream_query is not None
    assert spec.component("enricher").workload.kind is WorkloadKind.STATEFULSET
    assert spec.component("enricher").lag_threshold_messages == 1000


def test_defaults_match_the_crd_defaults() -> None:
    spec = parse_spec(minimal())
    assert spec.prometheus_url == "http://prometheus:9090"
    assert spec.check_interval_seconds == 10
    assert spec.components[0].freshness_threshold_seconds == 15
    assert spec.restart_policy.max_restarts_per_hour == 3
    assert not spec.paused
    assert not spec.dry_run


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("components"), "at least one component"),
        (lambda s: s["prometheus"].update(url="prometheus:9090"), "http://"),
        (lambda s: s["components"][0].update(role="database"), "role"),
        (lambda s: s["components"][0]["workload"].update(kind="DaemonSet"), "kind"),
        (lambda s: s["components"].append(dict(s["components"][0])), "unique"),
        (lambda s: s["components"][0].update(upstream={"query": "x"}), "producer"),
        (
            lambda s: s.update(restartPolicy={"cooldownSeconds": 600, "maxCooldownSeconds": 60}),
            "maxCooldownSeconds",
        ),
        (lambda s: s["components"][0]["freshness"].update(thresholdSeconds=0), ">= 1"),
        (lambda s: s["prometheus"].update(url=f"http://{'a' * 300}:9090"), "1 to 63"),
        (lambda s: s["prometheus"].update(url="http://a..b:9090"), "1 to 63"),
        (lambda s: s["prometheus"].update(url="http://prometheus:99999"), "port"),
        (lambda s: s["prometheus"].update(url="http://user:pw@prometheus:9090"), "credentials"),
        (lambda s: s["prometheus"].update(url="http://prom etheus:9090"), "whitespace"),
        (lambda s: s["prometheus"].update(timeoutSeconds=0), ">= 0.1"),
        (lambda s: s["components"][0]["freshness"].update(query="   "), "query is required"),
    ],
)
def test_invalid_specs_name_the_bad_field(change: Any, message: str) -> None:
    raw = minimal()
    change(raw)
    with pytest.raises(SpecError, match=message):
        parse_spec(raw)


@pytest.mark.parametrize(
    "url",
    [
        "http://prometheus:9090",
        "https://prometheus-server.monitoring.svc.cluster.local",
        "http://127.0.0.1:9090/prefix/",
        "http://[::1]:9090",
        f"http://{'a' * 63}.example:9090",
    ],
)
def test_urls_the_client_can_open_are_accepted(url: str) -> None:
    raw = minimal()
    raw["prometheus"]["url"] = url
    assert parse_spec(raw).prometheus_url == url.rstrip("/")
