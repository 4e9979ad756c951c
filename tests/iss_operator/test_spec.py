from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from iss_operator.spec import (
    PipelineFields,
    RestartPolicyFields,
    Role,
    SpecError,
    WorkloadKind,
    parse_spec,
)

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


CRD = Path(__file__).parents[2] / "k8s" / "crds" / "pipelines.iss-tracker.io.yaml"
STATED_BY_BOTH = ("default", "minimum", "maximum", "enum", "minLength", "maxLength", "maxItems")


def _crd_spec_schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema["properties"]["spec"]  # type: ignore[no-any-return]


def _resolved(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A model schema node with its $ref followed and an `anyOf` with null reduced to the type."""
    options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        node = {**{k: v for k, v in node.items() if k != "anyOf"}, **options[0]}
    if "$ref" in node:
        node = {
            **defs[node["$ref"].rsplit("/", 1)[1]],
            **{k: v for k, v in node.items() if k != "$ref"},
        }
    if node.get("type") == "array" and "items" in node:
        node = {**node, "items": _resolved(node["items"], defs)}
    return node


def _differences(
    model: dict[str, Any], crd: dict[str, Any], defs: dict[str, Any], at: str
) -> list[str]:
    found: list[str] = []
    model = _resolved(model, defs)
    for key in STATED_BY_BOTH:
        ours = model.get(key)
        theirs = crd.get(key)
        if key == "default" and (ours is None or isinstance(theirs, dict)):
            continue  # no default in the model, or an object default (compared on its own)
        if ours != theirs:
            found.append(f"{at}: {key} is {ours!r} in the model, {theirs!r} in the CRD")
    if not set(model.get("required", [])) <= set(crd.get("required", [])):
        found.append(f"{at}: the model requires {model['required']}, the CRD {crd.get('required')}")
    if model.get("type") == "array":
        return found + _differences(model["items"], crd["items"], defs, f"{at}[]")
    ours, theirs = model.get("properties", {}), crd.get("properties", {})
    if set(ours) != set(theirs):
        found.append(f"{at}: the model has {sorted(ours)}, the CRD {sorted(theirs)}")
    for name in sorted(set(ours) & set(theirs)):
        found += _differences(ours[name], theirs[name], defs, f"{at}.{name}")
    return found


def test_the_spec_model_states_the_crds_defaults_and_bounds() -> None:
    schema = PipelineFields.model_json_schema(by_alias=True)
    crd = _crd_spec_schema()
    assert _differences(schema, crd, schema["$defs"], "spec") == []
    policy = RestartPolicyFields().model_dump(by_alias=True)
    assert policy == crd["properties"]["restartPolicy"]["default"]


def test_a_changed_crd_bound_is_noticed() -> None:
    schema = PipelineFields.model_json_schema(by_alias=True)
    crd = _crd_spec_schema()
    crd["properties"]["checkIntervalSeconds"]["maximum"] = 7200
    crd["properties"]["components"]["items"]["properties"]["freshness"]["properties"][
        "thresholdSeconds"
    ]["default"] = 30
    assert _differences(schema, crd, schema["$defs"], "spec") == [
        "spec.checkIntervalSeconds: maximum is 3600 in the model, 7200 in the CRD",
        "spec.components[].freshness.thresholdSeconds: default is 15.0 in the model, 30 in the CRD",
    ]
