"""Kafka security as the chart renders it: a TLS listener with SCRAM-SHA-512, simple
authorization, one KafkaUser per client with ACLs limited to its topics and group, and the
clients wired to their credentials and the cluster CA. The Strimzi 1.2.0 CRDs validate these
objects server-side (test_chart_render.py); the clients' SASL_SSL itself is tested against the
real local Kafka (tests/*/test_kafka_security.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.chart import Rendered, env_of, helm_template, main_container, pod_spec

pytestmark = pytest.mark.services

CLIENTS = {
    ("Deployment", "producer"): "ISS_PRODUCER_",
    ("StatefulSet", "enricher"): "ISS_ENRICHER_",
    ("Deployment", "liveview"): "ISS_LIVEVIEW_",
}


@pytest.fixture(scope="module")
def secured() -> Rendered:
    return helm_template(sets={"liveview.enabled": "true"})


def acls(rendered: Rendered, component: str) -> set[tuple[str, str, str, tuple[str, ...]]]:
    user = rendered.component("KafkaUser", component)
    return {
        (a["resource"]["type"], a["resource"]["name"], a["resource"]["patternType"],
         tuple(a["operations"]))
        for a in user["spec"]["authorization"]["acls"]
    }  # fmt: skip


def test_kafka_listens_with_tls_and_scram_and_authorizes_every_request(secured: Rendered) -> None:
    spec = secured.of_kind("Kafka")[0]["spec"]

    assert spec["kafka"]["listeners"] == [
        {
            "name": "tls",
            "port": 9093,
            "type": "internal",
            "tls": True,
            "authentication": {"type": "scram-sha-512"},
        }
    ]
    assert spec["kafka"]["authorization"] == {"type": "simple"}
    assert "userOperator" in spec["entityOperator"]
    assert "userOperatorContainer" in spec["entityOperator"]["template"]


def test_each_client_may_use_only_its_topics_and_group(secured: Rendered) -> None:
    assert acls(secured, "producer") == {
        ("topic", "iss.positions.raw", "literal", ("Write", "Describe")),
    }
    assert acls(secured, "enricher") == {
        ("topic", "iss.positions.raw", "literal", ("Read", "Describe")),
        ("group", "iss-enricher", "literal", ("Read",)),
        ("topic", "iss.positions.enriched", "literal", ("Write", "Describe")),
        ("topic", "iss.positions.deadletter", "literal", ("Write", "Describe")),
    }
    assert acls(secured, "liveview") == {
        ("topic", "iss.positions.enriched", "literal", ("Read", "Describe")),
        ("group", "iss-liveview", "prefix", ("Read",)),
    }
    for user in secured.of_kind("KafkaUser"):
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == "iss-iss-tracker-kafka"


@pytest.mark.parametrize(("kind", "component"), list(CLIENTS))
def test_every_client_logs_in_as_its_user_and_trusts_the_cluster_ca(
    secured: Rendered, kind: str, component: str
) -> None:
    prefix = CLIENTS[(kind, component)]
    workload = secured.component(kind, component)
    container = main_container(workload)
    env: dict[str, Any] = env_of(container)
    user = secured.component("KafkaUser", component)["metadata"]["name"]

    assert env[f"{prefix}BOOTSTRAP_SERVERS"].endswith(":9093")
    assert env[f"{prefix}KAFKA_USERNAME"] == user
    assert env[f"{prefix}KAFKA_PASSWORD"] == {"secretKeyRef": {"name": user, "key": "password"}}
    assert env[f"{prefix}KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    ca = env[f"{prefix}KAFKA_SSL_CA_LOCATION"]
    (mount,) = [m for m in container["volumeMounts"] if ca.startswith(m["mountPath"])]
    (volume,) = [v for v in pod_spec(workload)["volumes"] if v["name"] == mount["name"]]
    assert volume["secret"]["secretName"] == "iss-iss-tracker-kafka-cluster-ca-cert"


@pytest.mark.parametrize(
    "sets",
    [
        {"kafka.security.enabled": "false"},
        {"kafka.enabled": "false", "kafka.externalBootstrap": "kafka.data.svc:9092"},
    ],
    ids=["plaintext opt-out", "external Kafka"],
)
def test_without_the_secured_cluster_clients_talk_plaintext(sets: dict[str, str]) -> None:
    rendered = helm_template(sets=sets)

    assert rendered.of_kind("KafkaUser") == []
    for (kind, component), prefix in CLIENTS.items():
        if component == "liveview":
            continue
        env = env_of(main_container(rendered.component(kind, component)))
        assert f"{prefix}KAFKA_USERNAME" not in env
        assert env[f"{prefix}BOOTSTRAP_SERVERS"].endswith(":9092")
