"""What the templates decide: names, labels, toggles, wiring, credentials, security defaults."""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from iss_contract.limits import MAX_MESSAGE_BYTES
from iss_dashboards.defaults import PROVISIONED_UIDS
from iss_enricher.settings import EnricherSettings
from iss_liveview.settings import LiveviewSettings
from iss_operator.settings import OperatorSettings
from iss_producer.settings import ProducerSettings
from tests.support.chart import (
    CHART,
    Rendered,
    containers,
    env_of,
    grafana_datasources,
    main_container,
    memory_bytes,
    pod_spec,
    render,
    render_error,
    workloads,
)

if TYPE_CHECKING:
    from iss_devstack.controlplane import ControlPlane

pytestmark = pytest.mark.controlplane

LONG_RUNNING = ("Deployment", "StatefulSet")


@pytest.fixture(scope="module")
def defaults(controlplane: ControlPlane) -> Rendered:
    return render(controlplane)


# Names and labels


def test_full_name_joins_release_and_chart_names(defaults: Rendered) -> None:
    assert defaults.component("Deployment", "producer")["metadata"]["name"] == (
        "iss-iss-tracker-producer"
    )


def test_full_name_is_the_release_name_when_it_contains_the_chart_name(
    controlplane: ControlPlane,
) -> None:
    rendered = render(controlplane, release="my-iss-tracker")
    assert rendered.component("Deployment", "producer")["metadata"]["name"] == (
        "my-iss-tracker-producer"
    )


def test_long_release_names_still_give_valid_object_names(controlplane: ControlPlane) -> None:
    rendered = render(controlplane, release="a" * 53)
    for obj in rendered.objects:
        name = obj["metadata"]["name"]
        assert len(name) <= 63, name
        assert not name.endswith("-"), name


def test_selector_labels_carry_no_version(defaults: Rendered) -> None:
    for obj in defaults.of_kind("Deployment") + defaults.of_kind("StatefulSet"):
        selector = obj["spec"]["selector"]["matchLabels"]
        assert "helm.sh/chart" not in selector
        assert "app.kubernetes.io/version" not in selector
        template_labels = obj["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= template_labels.items()


def test_every_object_is_labelled_with_release_and_component(defaults: Rendered) -> None:
    for obj in defaults.objects:
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/instance"] == "iss"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/component"]


def test_common_labels_reach_every_object(controlplane: ControlPlane) -> None:
    rendered = render(controlplane, sets={"commonLabels.team": "space"})
    assert all(o["metadata"]["labels"]["team"] == "space" for o in rendered.objects)


# Toggles


def test_live_view_is_off_by_default(defaults: Rendered) -> None:
    assert "liveview" not in defaults.components()


def test_live_view_toggle_adds_its_deployment_service_and_scrape_job(
    controlplane: ControlPlane,
) -> None:
    rendered = render(controlplane, sets={"liveview.enabled": "true"})
    deployment = rendered.component("Deployment", "liveview")
    assert rendered.component("Service", "liveview")["spec"]["ports"][0]["port"] == 8088
    env = env_of(next(containers(deployment)))
    assert env["ISS_LIVEVIEW_TOPIC"] == "iss.positions.enriched"
    assert "job_name: iss-iss-tracker-liveview" in prometheus_config(rendered)
    # Not ready while it cannot follow its topic, but not restarted for it either (a refused
    # login or a missing ACL is not fixed by a restart).
    container = next(containers(deployment))
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"


def test_switching_monitoring_off_removes_prometheus_and_grafana(
    controlplane: ControlPlane,
) -> None:
    rendered = render(
        controlplane, sets={"prometheus.enabled": "false", "grafana.enabled": "false"}
    )
    assert not rendered.components() & {"prometheus", "grafana"}
    assert not [o for o in rendered.of_kind("ConfigMap") if "grafana_dashboard" in str(o)]


def test_grafana_without_prometheus_has_only_the_database_datasource(
    controlplane: ControlPlane,
) -> None:
    rendered = render(controlplane, sets={"prometheus.enabled": "false"})
    sources = grafana_datasources(rendered)
    assert [s["type"] for s in sources] == ["grafana-postgresql-datasource"]
    assert sources[0]["isDefault"] is True


def test_external_kafka_replaces_the_strimzi_resources(controlplane: ControlPlane) -> None:
    rendered = render(
        controlplane,
        sets={"kafka.enabled": "false", "kafka.externalBootstrap": "broker.example:9092"},
    )
    assert not [o for o in rendered.objects if o["apiVersion"].startswith("kafka.strimzi.io")]
    producer = next(containers(rendered.component("Deployment", "producer")))
    assert env_of(producer)["ISS_PRODUCER_BOOTSTRAP_SERVERS"] == "broker.example:9092"
    assert "kafka-exporter" not in prometheus_config(rendered)


def test_external_kafka_needs_a_bootstrap_address(controlplane: ControlPlane) -> None:
    assert "kafka.externalBootstrap is required" in render_error(
        controlplane, {"kafka.enabled": "false"}
    )


def test_external_database_needs_a_user_supplied_secret(controlplane: ControlPlane) -> None:
    message = render_error(
        controlplane, {"database.enabled": "false", "database.external.host": "pg.example"}
    )
    assert "database.existingSecret is required" in message


# Kafka


def test_single_node_kafka_runs_kraft_with_replication_of_one(defaults: Rendered) -> None:
    pool = defaults.of_kind("KafkaNodePool")[0]
    assert pool["spec"]["replicas"] == 1
    assert sorted(pool["spec"]["roles"]) == ["broker", "controller"]
    assert pool["spec"]["storage"]["volumes"][0]["type"] == "ephemeral"
    kafka = defaults.of_kind("Kafka")[0]
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    config = kafka["spec"]["kafka"]["config"]
    assert config["offsets.topic.replication.factor"] == 1
    assert config["min.insync.replicas"] == 1
    assert "kafkaExporter" in kafka["spec"]
    assert kafka["apiVersion"] == "kafka.strimzi.io/v1"


def test_topics_follow_the_contract_names_and_single_node_sizing(defaults: Rendered) -> None:
    topics = {t["spec"]["topicName"]: t for t in defaults.of_kind("KafkaTopic")}
    assert set(topics) == {
        "iss.positions.raw",
        "iss.positions.enriched",
        "iss.positions.deadletter",
    }
    for topic in topics.values():
        assert topic["spec"]["replicas"] == 1
        assert topic["spec"]["config"]["min.insync.replicas"] == 1
        assert topic["spec"]["config"]["max.message.bytes"] == MAX_MESSAGE_BYTES
    assert topics["iss.positions.raw"]["spec"]["partitions"] == 3
    assert topics["iss.positions.deadletter"]["spec"]["config"]["retention.ms"] == 604800000


def test_three_nodes_raise_replication_and_min_isr(controlplane: ControlPlane) -> None:
    rendered = render(
        controlplane,
        sets={
            "kafka.replicas": "3",
            "kafka.topics.replicas": "3",
            "kafka.topics.minInsyncReplicas": "2",
        },
    )
    config = rendered.of_kind("Kafka")[0]["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert all(t["spec"]["replicas"] == 3 for t in rendered.of_kind("KafkaTopic"))


def test_min_isr_above_the_topic_replicas_is_refused(controlplane: ControlPlane) -> None:
    assert "must not exceed" in render_error(controlplane, {"kafka.topics.minInsyncReplicas": "2"})


def test_persistent_kafka_storage_uses_a_claim(controlplane: ControlPlane) -> None:
    rendered = render(
        controlplane,
        sets={"kafka.storage.type": "persistent-claim", "kafka.storage.size": "20Gi"},
    )
    volume = rendered.of_kind("KafkaNodePool")[0]["spec"]["storage"]["volumes"][0]
    assert volume["type"] == "persistent-claim"
    assert volume["size"] == "20Gi"


# Enricher processes


def test_one_enricher_process_needs_no_cluster_addresses(defaults: Rendered) -> None:
    enricher = defaults.component("StatefulSet", "enricher")
    args = main_container(enricher)["args"]
    assert not [a for a in args if a.startswith(("--addresses", "--process-id"))]


def test_every_enricher_process_gets_the_address_of_every_pod(
    controlplane: ControlPlane,
) -> None:
    rendered = render(controlplane, sets={"enricher.replicas": "3"})
    enricher = rendered.component("StatefulSet", "enricher")
    container = main_container(enricher)
    addresses = next(a for a in container["args"] if a.startswith("--addresses="))
    hosts = addresses.removeprefix("--addresses=").split(";")
    headless = enricher["spec"]["serviceName"]
    assert hosts == [
        f"iss-iss-tracker-enricher-{i}.{headless}.iss-tracker.svc:2101" for i in range(3)
    ]
    assert "--process-id=$(POD_INDEX)" in container["args"]
    assert env_of(container)["POD_INDEX"] == {
        "fieldRef": {"fieldPath": "metadata.labels['apps.kubernetes.io/pod-index']"}
    }
    assert enricher["spec"]["podManagementPolicy"] == "Parallel"
    assert rendered.named("Service", headless)["spec"]["publishNotReadyAddresses"] is True


def test_enricher_keeps_recovery_state_on_a_claim_per_process(defaults: Rendered) -> None:
    enricher = defaults.component("StatefulSet", "enricher")
    claim = enricher["spec"]["volumeClaimTemplates"][0]
    container = main_container(enricher)
    mount = next(m for m in container["volumeMounts"] if m["name"] == claim["metadata"]["name"])
    assert env_of(container)["ISS_ENRICHER_RECOVERY_DIRECTORY"] == mount["mountPath"]


def test_a_stopping_enricher_gives_up_its_drain_before_the_kubelet_kills_it(
    controlplane: ControlPlane,
) -> None:
    for grace, stop_grace in (("15", "12"), ("60", "57"), ("2", "1")):
        rendered = render(controlplane, sets={"enricher.terminationGracePeriodSeconds": grace})
        enricher = rendered.component("StatefulSet", "enricher")
        assert pod_spec(enricher)["terminationGracePeriodSeconds"] == int(grace)
        assert env_of(main_container(enricher))["ISS_ENRICHER_STOP_GRACE_SECONDS"] == stop_grace


def test_recovery_can_be_switched_off(controlplane: ControlPlane) -> None:
    rendered = render(controlplane, sets={"enricher.recovery.enabled": "false"})
    enricher = rendered.component("StatefulSet", "enricher")
    assert "volumeClaimTemplates" not in enricher["spec"]
    assert "ISS_ENRICHER_RECOVERY_DIRECTORY" not in env_of(main_container(enricher))


# Credentials


def test_generated_passwords_are_long_and_random(controlplane: ControlPlane) -> None:
    first = secret_data(render(controlplane), "timescaledb")["password"]
    second = secret_data(render(controlplane), "timescaledb")["password"]
    assert len(first) == 32
    assert first != second


def test_every_process_reads_the_database_password_from_the_secret(defaults: Rendered) -> None:
    secrets = {s["metadata"]["name"] for s in defaults.of_kind("Secret")}
    references = [
        entry["valueFrom"]["secretKeyRef"]["name"]
        for workload in workloads(defaults)
        for container in containers(workload)
        for entry in container.get("env", [])
        # Kafka passwords are in the Secrets Strimzi's user operator makes (KafkaUsers).
        if "PASSWORD" in entry["name"] and not entry["name"].endswith("KAFKA_PASSWORD")
    ]
    # database, enricher, migration, helm test, grafana (admin and datasource)
    assert len(references) >= 6
    assert set(references) <= secrets


def test_generated_password_appears_only_inside_its_secret(defaults: Rendered) -> None:
    password = secret_data(defaults, "timescaledb")["password"]
    encoded = base64.b64encode(password.encode()).decode()
    assert password not in defaults.text
    assert defaults.text.count(encoded) == 1


def test_an_existing_secret_replaces_the_generated_one(controlplane: ControlPlane) -> None:
    rendered = render(
        controlplane,
        sets={
            "database.existingSecret": "mine",
            "database.reader.existingSecret": "ours",
            "grafana.existingSecret": "theirs",
        },
    )
    assert rendered.of_kind("Secret") == []
    enricher = next(containers(rendered.component("StatefulSet", "enricher")))
    assert env_of(enricher)["PGPASSWORD"]["secretKeyRef"]["name"] == "mine"
    grafana = next(containers(rendered.component("Deployment", "grafana")))
    assert env_of(grafana)["GF_SECURITY_ADMIN_PASSWORD"]["secretKeyRef"]["name"] == "theirs"


def test_database_connection_string_holds_no_password_and_libpq_reads_it_from_the_secret(
    defaults: Rendered,
) -> None:
    enricher = next(containers(defaults.component("StatefulSet", "enricher")))
    env = env_of(enricher)
    assert env["ISS_ENRICHER_DATABASE_DSN"] == (
        "host='iss-iss-tracker-timescaledb.iss-tracker.svc' port=5432 dbname='iss' user='iss' "
        "sslmode=prefer"
    )
    assert env["PGPASSWORD"]["secretKeyRef"] == {
        "name": "iss-iss-tracker-db-credentials",
        "key": "password",
    }


def test_grafana_reads_through_the_read_only_role_with_the_configured_sslmode(
    controlplane: ControlPlane,
) -> None:
    rendered = render(controlplane, sets={"grafana.sslmode": "verify-full"})
    source = next(s for s in grafana_datasources(rendered) if s["uid"] == "iss-postgres")
    assert source["user"] == "iss_reader"
    assert source["jsonData"]["sslmode"] == "verify-full"
    grafana = next(containers(rendered.component("Deployment", "grafana")))
    assert env_of(grafana)["ISS_DATABASE_PASSWORD"]["secretKeyRef"]["name"] == (
        "iss-iss-tracker-db-reader"
    )
    job = next(containers(rendered.component("Job", "migrate")))
    assert "--reader-role=iss_reader" in job["args"]


def test_values_defaults_hold_no_password() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if any(w in key.lower() for w in ("password", "token", "secretkey")):
                    assert not value, f"{path}{key} has a default"
                walk(value, f"{path}{key}.")

    walk(values, "")


# Hooks


def test_migration_runs_as_a_hook_that_cleans_up_after_itself(defaults: Rendered) -> None:
    job = defaults.component("Job", "migrate")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "post-install,post-upgrade"
    assert "hook-succeeded" in annotations["helm.sh/hook-delete-policy"]
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    assert next(containers(job))["command"] == ["iss-migrate"]
    assert job["spec"]["ttlSecondsAfterFinished"] > 0


def test_helm_test_checks_the_age_of_the_newest_row(defaults: Rendered) -> None:
    pod = defaults.component("Pod", "test")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    container = next(containers(pod))
    script = container["command"][-1]
    assert "max(stored_at)" in script
    assert "FROM positions" in script
    assert env_of(container)["MAX_ROW_AGE_SECONDS"] == "300"


# Security and sizing


def test_every_container_drops_all_capabilities_and_runs_as_non_root(
    defaults: Rendered,
) -> None:
    for workload in workloads(defaults):
        assert pod_spec(workload)["securityContext"]["runAsNonRoot"] is True
        for container in containers(workload):
            context = container["securityContext"]
            assert context["capabilities"]["drop"] == ["ALL"], workload["metadata"]["name"]
            assert context["allowPrivilegeEscalation"] is False


def test_strimzi_containers_get_the_same_restrictions(defaults: Rendered) -> None:
    spec = defaults.of_kind("Kafka")[0]["spec"]
    contexts = [
        spec["kafka"]["template"]["kafkaContainer"]["securityContext"],
        spec["entityOperator"]["template"]["topicOperatorContainer"]["securityContext"],
        spec["kafkaExporter"]["template"]["container"]["securityContext"],
    ]
    for context in contexts:
        assert context["capabilities"]["drop"] == ["ALL"]
        assert context["runAsNonRoot"] is True
        assert context["readOnlyRootFilesystem"] is True
    # Strimzi's pod context gives the data volumes their group; the chart leaves it alone.
    assert "pod" not in spec["kafka"]["template"]


def test_only_the_database_needs_a_writable_root_filesystem(defaults: Rendered) -> None:
    writable = {
        workload["metadata"]["labels"]["app.kubernetes.io/component"]
        for workload in workloads(defaults)
        for container in containers(workload)
        if not container["securityContext"]["readOnlyRootFilesystem"]
    }
    assert writable == {"timescaledb"}


def test_long_running_containers_have_probes_requests_and_limits(defaults: Rendered) -> None:
    for kind in LONG_RUNNING:
        for workload in defaults.of_kind(kind):
            for container in containers(workload):
                name = f"{workload['metadata']['name']}/{container['name']}"
                if container not in pod_spec(workload).get("initContainers", []):
                    # Init containers run to completion: no probes.
                    assert "livenessProbe" in container, name
                    assert "readinessProbe" in container, name
                assert container["resources"]["requests"]["memory"], name
                assert container["resources"]["limits"]["memory"], name


def test_default_install_fits_one_node_with_8_gib(controlplane: ControlPlane) -> None:
    """Memory limits of everything the chart runs, Strimzi's pods included, stay under 6 GiB:
    the rest of an 8 GiB kind node is for Kubernetes itself and the Strimzi operator."""
    rendered = render(controlplane, sets={"enricher.replicas": "3"})
    total = sum(
        memory_bytes(c["resources"]["limits"]["memory"])
        for w in workloads(rendered)
        if w["kind"] in LONG_RUNNING
        for c in containers(w)
    )
    kafka_replicas = rendered.of_kind("KafkaNodePool")[0]["spec"]["replicas"]
    total += kafka_replicas * memory_bytes(
        rendered.of_kind("KafkaNodePool")[0]["spec"]["resources"]["limits"]["memory"]
    )
    spec = rendered.of_kind("Kafka")[0]["spec"]
    total += memory_bytes(spec["entityOperator"]["topicOperator"]["resources"]["limits"]["memory"])
    total += memory_bytes(spec["kafkaExporter"]["resources"]["limits"]["memory"])
    assert total < 6 * 2**30, f"{total / 2**30:.2f} GiB"


# Wiring


def test_pipeline_names_the_workloads_the_chart_deploys(defaults: Rendered) -> None:
    pipeline = defaults.of_kind("Pipeline")[0]
    components = {c["name"]: c for c in pipeline["spec"]["components"]}
    producer = components["producer"]["workload"]
    enricher = components["enricher"]["workload"]
    assert defaults.named(producer["kind"], producer["name"])
    assert defaults.named(enricher["kind"], enricher["name"])
    assert components["producer"]["role"] == "producer"
    assert components["enricher"]["role"] == "enricher"
    assert (
        "iss_enricher_last_committed_event_timestamp_seconds"
        in (components["enricher"]["freshness"]["query"])
    )
    prometheus = defaults.component("Service", "prometheus")
    assert pipeline["spec"]["prometheus"]["url"] == (
        f"http://{prometheus['metadata']['name']}.iss-tracker.svc:9090"
    )


def test_pipeline_spec_is_what_the_operator_accepts(defaults: Rendered) -> None:
    from iss_operator.spec import parse_spec

    spec = parse_spec(defaults.of_kind("Pipeline")[0]["spec"])
    assert {c.name for c in spec.components} == {"producer", "enricher"}


def test_operator_rbac_covers_pipelines_workloads_and_its_lease(defaults: Rendered) -> None:
    role = defaults.component("Role", "operator")
    granted = {
        (group, resource)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    assert {
        ("iss-tracker.io", "pipelines"),
        ("iss-tracker.io", "pipelines/status"),
        ("apps", "deployments"),
        ("apps", "statefulsets"),
        ("coordination.k8s.io", "leases"),
    } <= granted
    deployment = defaults.component("Deployment", "operator")
    assert (
        pod_spec(deployment)["serviceAccountName"]
        == (defaults.component("ServiceAccount", "operator")["metadata"]["name"])
    )
    env = env_of(next(containers(deployment)))
    assert env["ISS_OPERATOR_LEASE_NAME"] == deployment["metadata"]["name"]


def test_operator_runs_two_replicas_that_never_all_go_away(defaults: Rendered) -> None:
    deployment = defaults.component("Deployment", "operator")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    budget = defaults.component("PodDisruptionBudget", "operator")
    assert budget["spec"]["minAvailable"] == 1
    assert (
        budget["spec"]["selector"]["matchLabels"] == (deployment["spec"]["selector"]["matchLabels"])
    )
    probe = next(containers(deployment))["livenessProbe"]
    assert probe["httpGet"]["path"] == "/healthz"


def test_prometheus_scrapes_every_component_on_its_metrics_port(defaults: Rendered) -> None:
    config = yaml.safe_load(prometheus_config(defaults))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {
        "prometheus",
        "iss-iss-tracker-producer",
        "iss-iss-tracker-enricher",
        "iss-iss-tracker-operator",
        "iss-iss-tracker-kafka-kafka-exporter",
    }
    for component in ("producer", "enricher", "operator"):
        workload = next(
            w
            for w in workloads(defaults)
            if w["metadata"]["labels"]["app.kubernetes.io/component"] == component
            and w["kind"] in LONG_RUNNING
        )
        ports = {p["name"] for c in containers(workload) for p in c.get("ports", [])}
        assert "metrics" in ports
    exporter = jobs["iss-iss-tracker-kafka-kafka-exporter"]["relabel_configs"][0]
    kafka = defaults.of_kind("Kafka")[0]["metadata"]["name"]
    assert exporter["regex"] == f"{kafka}-kafka-exporter"


def test_dashboards_ship_one_labelled_configmap_per_file(defaults: Rendered) -> None:
    files = sorted(p.name for p in (CHART / "files" / "dashboards").glob("*.json"))
    maps = [
        o for o in defaults.of_kind("ConfigMap") if "grafana_dashboard" in o["metadata"]["labels"]
    ]
    assert files, "no dashboards synced into the chart"
    assert sorted(k for m in maps for k in m["data"]) == files
    for configmap in maps:
        assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
        for text in configmap["data"].values():
            assert json.loads(text)["uid"]
    grafana = defaults.component("Deployment", "grafana")
    projected = next(v for v in pod_spec(grafana)["volumes"] if v["name"] == "dashboards")
    assert sorted(s["configMap"]["name"] for s in projected["projected"]["sources"]) == sorted(
        m["metadata"]["name"] for m in maps
    )


def test_datasources_carry_the_uids_the_dashboards_expect(defaults: Rendered) -> None:
    sources = {s["type"]: s for s in grafana_datasources(defaults)}
    assert {t: s["uid"] for t, s in sources.items()} == PROVISIONED_UIDS
    assert sources["grafana-postgresql-datasource"]["secureJsonData"]["password"] == (
        "$__env{ISS_DATABASE_PASSWORD}"
    )


# Schema


@pytest.mark.parametrize(
    ("key", "value", "complaint"),
    [
        ("producer.replica", "2", "additional properties"),
        ("enricher.replicas", "many", "got string, want integer"),
        ("kafka.storage.type", "nfs", "value must be one of"),
        ("grafana.dashboard", "true", "additional properties"),
        ("containerSecurityContext.runAsRoot", "true", "additional properties"),
    ],
)
def test_schema_rejects_typos_and_wrong_types(
    controlplane: ControlPlane, key: str, value: str, complaint: str
) -> None:
    assert complaint in render_error(controlplane, {key: value})


def test_schema_forbids_unknown_keys_in_every_fixed_object() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    open_objects: list[str] = []

    def walk(node: dict[str, Any], path: str) -> None:
        if node.get("type") == "object" and "properties" in node:
            if node.get("additionalProperties") is not False:
                open_objects.append(path)
            for key, child in node["properties"].items():
                walk(child, f"{path}.{key}")

    walk(schema, "")
    assert open_objects == []


@pytest.mark.parametrize(
    ("prefix", "settings"),
    [
        ("ISS_PRODUCER_", ProducerSettings),
        ("ISS_ENRICHER_", EnricherSettings),
        ("ISS_OPERATOR_", OperatorSettings),
        ("ISS_LIVEVIEW_", LiveviewSettings),
    ],
)
def test_every_setting_the_chart_passes_is_one_the_process_reads(
    controlplane: ControlPlane, prefix: str, settings: type[BaseSettings]
) -> None:
    """pydantic-settings ignores unknown variables: a renamed field would go unnoticed."""
    rendered = render(controlplane, sets={"liveview.enabled": "true"})
    passed = {
        name
        for workload in workloads(rendered)
        for container in containers(workload)
        for name in env_of(container)
        if name.startswith(prefix)
    }
    assert passed, f"no {prefix}* variable rendered"
    known = {prefix + field.upper() for field in settings.model_fields}
    assert passed <= known, sorted(passed - known)


# NOTES.txt


@pytest.mark.parametrize("liveview", ["false", "true"])
def test_notes_name_objects_the_chart_creates(
    controlplane: ControlPlane, chart_crds: list[str], liveview: str
) -> None:
    result = controlplane.helm(
        "install",
        "iss",
        str(CHART),
        "--dry-run=client",
        "--namespace",
        "iss-tracker",
        "--set",
        f"liveview.enabled={liveview}",
        "--output",
        "json",
    )
    release = json.loads(result.stdout)
    notes: str = release["info"]["notes"]
    objects = [o for o in yaml.safe_load_all(release["manifest"]) if o]
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    mentioned = re.findall(r"port-forward svc/(\S+)", notes)
    # Grafana, Prometheus (its alerts page), and the live view when it is on.
    assert len(mentioned) == (3 if liveview == "true" else 2)
    for service in mentioned:
        assert ("Service", service) in names
    for secret in re.findall(r"get secret (\S+)", notes):
        assert ("Secret", secret) in names
    pipeline = next(o for o in objects if o["kind"] == "Pipeline")["metadata"]["name"]
    assert f"describe pipeline {pipeline}" in notes
    assert "kubectl -n iss-tracker get pipelines" in notes


# Helpers of this module


def prometheus_config(rendered: Rendered) -> str:
    text: str = rendered.component("ConfigMap", "prometheus")["data"]["prometheus.yml"]
    return text


def secret_data(rendered: Rendered, component: str) -> dict[str, str]:
    secret = rendered.component("Secret", component)
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def test_every_image_is_pinned_to_a_tag(controlplane: ControlPlane) -> None:
    rendered = render(controlplane, sets={"liveview.enabled": "true"})
    for workload in workloads(rendered):
        for container in containers(workload):
            image = container["image"]
            repository, _, tag = image.rpartition(":")
            assert repository, f"{image} has no tag"
            assert tag not in {"latest", ""}, image


# PromQL of the Pipeline


def test_every_pipeline_query_is_scoped_to_the_release_namespace_and_job(
    defaults: Rendered,
) -> None:
    pipeline = defaults.of_kind("Pipeline")[0]
    queries = [
        c[reading]["query"]
        for c in pipeline["spec"]["components"]
        for reading in ("freshness", "lag", "upstream")
        if reading in c
    ]
    assert len(queries) == 4
    for query in queries:
        for selector in re.findall(r"\biss_\w+(\{[^}]*\})?", query):
            assert 'namespace="iss-tracker",job="iss-iss-tracker-' in selector, query


def test_the_upstream_window_is_shorter_than_the_producer_threshold_and_holds_two_scrapes(
    defaults: Rendered, controlplane: ControlPlane
) -> None:
    pipeline = defaults.of_kind("Pipeline")[0]
    producer = next(c for c in pipeline["spec"]["components"] if c["name"] == "producer")
    assert "[20s]" in producer["upstream"]["query"]
    assert producer["freshness"]["thresholdSeconds"] == 30
    assert "scrape_interval: 10s" in prometheus_config(defaults)

    too_long = render_error(controlplane, {"operator.pipeline.upstreamWindowSeconds": "30"})
    assert "must be shorter than producerFreshnessSeconds" in too_long
    too_few = render_error(controlplane, {"prometheus.scrapeInterval": "15s"})
    assert "must hold two scrapes" in too_few
