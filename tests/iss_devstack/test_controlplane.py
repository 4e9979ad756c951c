from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from iss_devstack.controlplane import ControlPlane, ensure_binaries
from iss_devstack.settings import DevstackSettings

pytestmark = pytest.mark.controlplane

T = TypeVar("T")

STRIMZI_CRDS = (
    "kafkas.kafka.strimzi.io",
    "kafkanodepools.kafka.strimzi.io",
    "kafkatopics.kafka.strimzi.io",
    "kafkausers.kafka.strimzi.io",
)


def eventually(probe: Callable[[], T | None], timeout: float = 60.0) -> T:
    """The first truthy answer of `probe`, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"no answer from {probe.__name__} within {timeout:.0f}s")
        time.sleep(0.3)


def get_json(controlplane: ControlPlane, *args: str) -> Any:
    return json.loads(controlplane.kubectl("get", *args, "-o", "json").stdout)


def create(
    controlplane: ControlPlane, namespace: str, manifest: dict[str, Any], *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return controlplane.kubectl(
        "-n", namespace, "create", "-f", "-", input=json.dumps(manifest), check=check
    )


@pytest.fixture(scope="module")
def strimzi_crds(controlplane: ControlPlane, strimzi_crds_dir: Path) -> None:
    # The Kafka CRD is larger than the client-side apply annotation allows.
    controlplane.kubectl("apply", "--server-side", "-f", str(strimzi_crds_dir))
    controlplane.kubectl(
        "wait", "--for=condition=Established", "--timeout=120s", *(f"crd/{c}" for c in STRIMZI_CRDS)
    )


def a_node_pool(name: str, cluster: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaNodePool",
        "metadata": {"name": name, "labels": {"strimzi.io/cluster": cluster}},
        "spec": {
            "replicas": 1,
            "roles": ["controller", "broker"],
            "storage": {"type": "ephemeral"},
            **spec,
        },
    }


def a_kafka(name: str, **kafka: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "Kafka",
        "metadata": {"name": name},
        "spec": {
            "kafka": {
                "listeners": [{"name": "plain", "port": 9092, "type": "internal", "tls": False}],
                "config": {"offsets.topic.replication.factor": 1},
                **kafka,
            },
            "entityOperator": {"topicOperator": {}},
            "kafkaExporter": {"groupRegex": ".*", "topicRegex": ".*"},
        },
    }


def test_the_api_server_reports_the_pinned_kubernetes_version(
    controlplane: ControlPlane, devstack_settings: DevstackSettings
) -> None:
    versions = json.loads(controlplane.kubectl("version", "-o", "json").stdout)

    wanted = devstack_settings.kubernetes_version
    assert versions["serverVersion"]["gitVersion"] == wanted
    assert versions["clientVersion"]["gitVersion"] == wanted


def test_once_built_the_binaries_are_reused_without_go(
    controlplane: ControlPlane, devstack_settings: DevstackSettings
) -> None:
    reused = ensure_binaries(devstack_settings, env={"PATH": ""})

    assert reused == controlplane.binaries
    assert reused.kube_apiserver.is_file()
    assert reused.helm.is_file()


@pytest.mark.usefixtures("strimzi_crds")
def test_the_strimzi_crds_are_established_and_serve_kafka_strimzi_io_v1(
    controlplane: ControlPlane,
) -> None:
    resources = controlplane.kubectl(
        "api-resources", "--api-group=kafka.strimzi.io", "-o", "name"
    ).stdout.split()

    assert "kafkas.kafka.strimzi.io" in resources
    assert "kafkanodepools.kafka.strimzi.io" in resources
    served = get_json(controlplane, "crd", "kafkas.kafka.strimzi.io")["spec"]["versions"]
    assert [v["name"] for v in served if v["served"]] == ["v1"]


@pytest.mark.usefixtures("strimzi_crds")
def test_a_kraft_kafka_with_a_node_pool_is_accepted(
    controlplane: ControlPlane, namespace: str
) -> None:
    create(controlplane, namespace, a_node_pool("pool", "iss"))
    create(controlplane, namespace, a_kafka("iss"))

    kafka = get_json(controlplane, "-n", namespace, "kafka", "iss")
    assert kafka["apiVersion"] == "kafka.strimzi.io/v1"
    assert kafka["spec"]["kafka"]["listeners"][0]["port"] == 9092
    pool = get_json(controlplane, "-n", namespace, "kafkanodepool", "pool")
    assert pool["spec"]["roles"] == ["controller", "broker"]


@pytest.mark.usefixtures("strimzi_crds")
@pytest.mark.parametrize(
    ("manifest", "complaint"),
    [
        pytest.param(
            {**a_kafka("no-listeners"), "spec": {"kafka": {"config": {}}}},
            "spec.kafka.listeners: Required value",
            id="missing-listeners",
        ),
        pytest.param(
            a_kafka("low-port", listeners=[{"name": "plain", "port": 80, "type": "internal"}]),
            "spec.kafka.listeners[0].port: Invalid value",
            id="port-below-9092",
        ),
        pytest.param(
            a_kafka("bad-type", listeners=[{"name": "plain", "port": 9092, "type": "bogus"}]),
            "spec.kafka.listeners[0].type: Unsupported value",
            id="unknown-listener-type",
        ),
        pytest.param(
            a_node_pool("word-replicas", "iss", replicas="three"),
            "spec.replicas: Invalid value",
            id="replicas-not-an-integer",
        ),
    ],
)
def test_an_invalid_strimzi_resource_is_rejected_with_the_offending_field(
    controlplane: ControlPlane, namespace: str, manifest: dict[str, Any], complaint: str
) -> None:
    result = create(controlplane, namespace, manifest, check=False)

    assert result.returncode != 0
    assert "is invalid" in result.stderr
    assert complaint in result.stderr
    kind = manifest["kind"].lower()
    listed = get_json(controlplane, "-n", namespace, kind)["items"]
    assert listed == []


def test_changing_a_pod_template_rolls_out_a_new_replicaset(
    controlplane: ControlPlane, namespace: str
) -> None:
    controlplane.kubectl(
        "-n", namespace, "create", "deployment", "web", "--image=registry.invalid/web:1"
    )

    def replicasets() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = get_json(
            controlplane, "-n", namespace, "replicasets", "-l", "app=web"
        )["items"]
        return items

    first = eventually(lambda: replicasets() or None)
    controlplane.kubectl(
        "-n", namespace, "set", "image", "deployment/web", "web=registry.invalid/web:2"
    )

    both = eventually(lambda: r if len(r := replicasets()) == 2 else None)
    revisions = {
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs for rs in both
    }
    assert set(revisions) == {"1", "2"}
    assert revisions["1"]["metadata"]["name"] == first[0]["metadata"]["name"]
    new_image = revisions["2"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert new_image == "registry.invalid/web:2"
    # The ReplicaSet controller runs too: the new ReplicaSet asks for its pod, which stays Pending.
    pods = eventually(
        lambda: [
            p
            for p in get_json(controlplane, "-n", namespace, "pods")["items"]
            if p["metadata"]["ownerReferences"][0]["name"] == revisions["2"]["metadata"]["name"]
        ]
    )
    assert pods[0]["status"]["phase"] == "Pending"


def test_a_service_account_token_is_forbidden_until_a_role_binding_grants_access(
    controlplane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    controlplane.kubectl("-n", namespace, "create", "serviceaccount", "reader")
    token = controlplane.kubectl("-n", namespace, "create", "token", "reader").stdout.strip()
    no_credentials = tmp_path / "empty-kubeconfig"
    no_credentials.write_text("apiVersion: v1\nkind: Config\n")

    def as_reader() -> Any:
        return controlplane.kubectl(
            f"--kubeconfig={no_credentials}",
            f"--server={controlplane.server}",
            f"--certificate-authority={controlplane.ca_cert}",
            f"--token={token}",
            "-n",
            namespace,
            "get",
            "configmaps",
            check=False,
        )

    before = as_reader()
    controlplane.kubectl(
        "-n",
        namespace,
        "create",
        "rolebinding",
        "reader-views",
        "--clusterrole=view",
        f"--serviceaccount={namespace}:reader",
    )
    after = eventually(lambda: r if (r := as_reader()).returncode == 0 else None, timeout=30)

    assert before.returncode != 0
    assert "forbidden" in before.stderr
    assert f"system:serviceaccount:{namespace}:reader" in before.stderr
    assert "kube-root-ca.crt" in after.stdout


def test_helm_installs_a_chart_that_requires_a_recent_kubernetes(
    controlplane: ControlPlane, devstack_settings: DevstackSettings, namespace: str, tmp_path: Path
) -> None:
    chart = tmp_path / "hello"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: hello\nversion: 0.1.0\nkubeVersion: '>=1.30.0-0'\n"
    )
    (chart / "templates" / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeting\n"
        "data:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n"
    )

    controlplane.helm("install", "hi", str(chart), "-n", namespace, "--wait", "--timeout=60s")

    greeting = get_json(controlplane, "-n", namespace, "configmap", "hi-greeting")
    assert greeting["data"]["kube"] == devstack_settings.kubernetes_version
    releases = json.loads(controlplane.helm("list", "-n", namespace, "-o", "json").stdout)
    assert [(r["name"], r["status"]) for r in releases] == [("hi", "deployed")]
