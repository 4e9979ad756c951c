"""NetworkPolicies, disruption budgets and topology spread, as rendered.

The CNI bridge plugin of the local node does not enforce NetworkPolicy, so the policies are
tested here by what they say and, in test_chart_render.py, by the API server's validation of
ci/secure-values.yaml; no test sends traffic through them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.chart import CHART, Rendered, helm_template, pod_spec, workloads

pytestmark = pytest.mark.services

SECURE = CHART / "ci" / "secure-values.yaml"


@pytest.fixture(scope="module")
def secure() -> Rendered:
    return helm_template(values_files=[SECURE])


def policies(rendered: Rendered) -> dict[str, dict[str, Any]]:
    return {p["metadata"]["name"]: p["spec"] for p in rendered.of_kind("NetworkPolicy")}


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    spec = workload["spec"]
    labels: dict[str, str] = (
        spec["template"]["metadata"]["labels"]
        if "template" in spec
        else workload["metadata"]["labels"]
    )
    return labels


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return selector.get("matchLabels", {}).items() <= labels.items()


def peers_of(rules: list[dict[str, Any]], key: str) -> list[dict[str, str]]:
    """The matchLabels of every pod peer in `rules` (`key` is `from` or `to`)."""
    return [
        peer["podSelector"].get("matchLabels", {})
        for rule in rules
        for peer in rule.get(key, [])
        if "podSelector" in peer
    ]


def components_of(labels: list[dict[str, str]]) -> set[str]:
    return {m.get("app.kubernetes.io/component", "") for m in labels}


def test_defaults_render_no_policies_and_no_budgets_for_single_replicas() -> None:
    rendered = helm_template()

    assert rendered.of_kind("NetworkPolicy") == []
    # The operator is the one component with two replicas by default.
    budgets = rendered.of_kind("PodDisruptionBudget")
    assert [b["metadata"]["labels"]["app.kubernetes.io/component"] for b in budgets] == ["operator"]


def test_every_pod_of_the_release_is_denied_all_but_name_resolution_by_default(
    secure: Rendered,
) -> None:
    deny = policies(secure)["iss-iss-tracker-default-deny"]

    assert deny["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny
    (dns,) = deny["egress"]
    assert {p["port"] for p in dns["ports"]} == {53}
    for workload in workloads(secure):
        assert selects(deny["podSelector"], pod_labels(workload)), workload["metadata"]["name"]


def test_every_workload_has_a_policy_with_its_paths(secure: Rendered) -> None:
    paths = [spec for name, spec in policies(secure).items() if name.endswith("-paths")]
    for workload in workloads(secure):
        matching = [p for p in paths if selects(p["podSelector"], pod_labels(workload))]
        assert len(matching) == 1, workload["metadata"]["name"]


def test_the_database_admits_only_its_clients(secure: Rendered) -> None:
    spec = policies(secure)["iss-iss-tracker-timescaledb-paths"]

    assert components_of(peers_of(spec["ingress"], "from")) == {
        "enricher",
        "migrate",
        "test",
        "grafana",
    }
    assert {p["port"] for r in spec["ingress"] for p in r["ports"]} == {5432}
    assert spec["egress"] == []


def test_the_enricher_reaches_kafka_the_database_and_its_peers_only(secure: Rendered) -> None:
    spec = policies(secure)["iss-iss-tracker-enricher-paths"]
    ports = {p["port"] for rule in spec["egress"] for p in rule["ports"]}
    outside = [peer for rule in spec["egress"] for peer in rule["to"] if "ipBlock" in peer]

    assert ports == {9093, 5432, 2101}
    assert outside == []
    assert components_of(peers_of(spec["ingress"], "from")) == {"prometheus", "enricher"}


def test_only_the_producer_and_alertmanager_reach_outside_the_cluster(secure: Rendered) -> None:
    outside = {
        name
        for name, spec in policies(secure).items()
        for rule in spec.get("egress", [])
        for peer in rule.get("to", [])
        if "ipBlock" in peer
        and {p["port"] for p in rule["ports"]} & {80, 443}
        and not {p["port"] for p in rule["ports"]} & {6443}
    }

    assert outside == {"iss-iss-tracker-producer-paths", "iss-iss-tracker-alertmanager-paths"}


def test_alertmanager_may_reach_the_port_of_every_webhook_it_is_configured_with(
    secure: Rendered,
) -> None:
    def egress_ports(rendered: Rendered) -> set[int]:
        spec = policies(rendered)["iss-iss-tracker-alertmanager-paths"]
        return {p["port"] for rule in spec["egress"] for p in rule["ports"]}

    # ci/secure-values.yaml sends to http://on-call.ops.svc:8080/alerts.
    assert egress_ports(secure) == {443, 8080}
    url = {"alertmanager.config.receivers[0].webhook_configs[0].url": "http://hooks.ops.svc/a"}
    plain = helm_template(values_files=[SECURE], sets=url)
    assert egress_ports(plain) == {443, 80}


def test_the_kafka_listener_admits_the_chart_clients_only(secure: Rendered) -> None:
    (listener,) = secure.of_kind("Kafka")[0]["spec"]["kafka"]["listeners"]

    assert components_of(
        [p["podSelector"]["matchLabels"] for p in listener["networkPolicyPeers"]]
    ) == {
        "producer",
        "enricher",
        "liveview",
    }


def test_replicated_components_get_a_budget_of_one_and_spread_over_nodes(
    secure: Rendered,
) -> None:
    budgets = {
        b["metadata"]["labels"]["app.kubernetes.io/component"]: b
        for b in secure.of_kind("PodDisruptionBudget")
    }

    assert set(budgets) == {"producer", "enricher", "operator"}
    for component in ("producer", "enricher"):
        budget = budgets[component]
        assert budget["spec"]["maxUnavailable"] == 1
        workload = next(
            w for w in workloads(secure)
            if w["metadata"]["labels"]["app.kubernetes.io/component"] == component
            and w["kind"] in ("Deployment", "StatefulSet")
        )  # fmt: skip
        assert budget["spec"]["selector"] == workload["spec"]["selector"]
        (spread,) = pod_spec(workload)["topologySpreadConstraints"]
        assert spread["whenUnsatisfiable"] == "DoNotSchedule"
        assert spread["labelSelector"] == workload["spec"]["selector"]
    operator = next(
        w
        for w in workloads(secure)
        if w["metadata"]["labels"]["app.kubernetes.io/component"] == "operator"
    )
    assert budgets["operator"]["spec"]["minAvailable"] == 1
    (spread,) = pod_spec(operator)["topologySpreadConstraints"]
    assert spread["labelSelector"] == operator["spec"]["selector"]
    kafka = secure.of_kind("Kafka")[0]["spec"]["kafka"]["template"]["pod"]
    assert kafka["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"


def test_strimzi_containers_ask_for_the_runtime_default_seccomp_profile(secure: Rendered) -> None:
    template = secure.of_kind("Kafka")[0]["spec"]["kafka"]["template"]

    for container in ("kafkaContainer", "initContainer"):
        context = template[container]["securityContext"]
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert context["runAsNonRoot"] is True
        assert context["capabilities"] == {"drop": ["ALL"]}


def pod_annotation(rendered: Rendered, kind: str, component: str, key: str) -> str:
    value: str = rendered.component(kind, component)["spec"]["template"]["metadata"]["annotations"][
        key
    ]
    return value


@pytest.mark.parametrize(
    ("kind", "component", "key", "change"),
    [
        (
            "Deployment",
            "prometheus",
            "iss-tracker.io/config-hash",
            {"alerting.rules.consumerLag.thresholdMessages": "5"},
        ),
        (
            "Deployment",
            "grafana",
            "iss-tracker.io/provisioning-hash",
            {"grafana.sslmode": "require"},
        ),
        (
            "Deployment",
            "alertmanager",
            "iss-tracker.io/config-hash",
            {"alertmanager.config.route.group_wait": "5s"},
        ),
    ],
)
def test_a_configuration_change_rolls_the_pods_that_read_it(
    kind: str, component: str, key: str, change: dict[str, str]
) -> None:
    base = {"alertmanager.enabled": "true"}
    before = pod_annotation(helm_template(sets=base), kind, component, key)
    after = pod_annotation(helm_template(sets={**base, **change}), kind, component, key)

    assert before != after
