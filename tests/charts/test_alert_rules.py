"""The chart's alerting rules: `promtool test rules` on them, their scoping, where they go.

The rules are rendered by helm from templates/_alerts.tpl and unit-tested by Debian's promtool
against tests/charts/promtool/alerts.test.yaml (input series and the alerts expected from them).
Only helm is needed here (no API server): rendering runs the binary directly.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from iss_devstack.prometheus import ensure_installed
from tests.support.chart import CHART, Rendered, helm_template, prometheus_files

# Needs helm (built with the control plane) and promtool (Debian's prometheus), not their servers.
pytestmark = pytest.mark.services

PROMTOOL_TESTS = Path(__file__).parent / "promtool" / "alerts.test.yaml"
ALERTS = {
    "IssStoredDataStale",
    "IssConsumerLagHigh",
    "IssDeadLettersArriving",
    "IssProducerOnFallbackSource",
    "IssRestartBudgetExhausted",
    "IssOperatorNotChecking",
}
SELECTOR = re.compile(r"\b((?:iss|kafka)_[a-z_]+)(\{[^}]*\})?")


def rules_of(text: str) -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(text)["groups"] for rule in group["rules"]]


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = Path(ensure_installed()).with_name("promtool")
    return subprocess.run(
        [str(binary), *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture(scope="module")
def defaults() -> Rendered:
    return helm_template()


def test_the_rules_pass_their_promtool_unit_tests(defaults: Rendered, tmp_path: Path) -> None:
    (tmp_path / "alerts.yml").write_text(prometheus_files(defaults)["alerts.yml"])
    shutil.copy(PROMTOOL_TESTS, tmp_path / PROMTOOL_TESTS.name)

    result = promtool("test", "rules", str(tmp_path / PROMTOOL_TESTS.name))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_unit_tests_cover_every_alert(defaults: Rendered) -> None:
    tested = {
        case["alertname"]
        for test in yaml.safe_load(PROMTOOL_TESTS.read_text())["tests"]
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    alerts = {rule["alert"] for rule in rules_of(prometheus_files(defaults)["alerts.yml"])}

    assert alerts == ALERTS
    assert tested == ALERTS


def test_every_selector_is_scoped_to_the_release_namespace_and_job(defaults: Rendered) -> None:
    for rule in rules_of(prometheus_files(defaults)["alerts.yml"]):
        for name, matchers in SELECTOR.findall(rule["expr"]):
            assert matchers, f"{rule['alert']}: {name} is not scoped"
            assert 'namespace="iss-tracker"' in matchers, rule["expr"]
            assert 'job="iss-iss-tracker-' in matchers, rule["expr"]


def test_two_releases_in_one_namespace_get_rules_that_do_not_overlap() -> None:
    first = rules_of(prometheus_files(helm_template(release="one"))["alerts.yml"])
    second = rules_of(prometheus_files(helm_template(release="two"))["alerts.yml"])

    for a, b in zip(first, second, strict=True):
        assert a["alert"] == b["alert"]
        assert a["expr"] != b["expr"]
        assert 'job="one-iss-tracker-' in a["expr"]
        assert 'job="two-iss-tracker-' in b["expr"]


def test_thresholds_and_alert_labels_come_from_values() -> None:
    rendered = helm_template(
        sets={
            "alerting.rules.storedDataStale.thresholdSeconds": "300",
            "alerting.rules.labels.team": "space",
        }
    )
    rules = {r["alert"]: r for r in rules_of(prometheus_files(rendered)["alerts.yml"])}

    assert ") > 300\n" in rules["IssStoredDataStale"]["expr"]
    assert all(rule["labels"]["team"] == "space" for rule in rules.values())


def test_only_the_rules_of_the_components_switched_on_are_rendered() -> None:
    rendered = helm_template(sets={"operator.enabled": "false", "producer.enabled": "false"})
    alerts = {r["alert"] for r in rules_of(prometheus_files(rendered)["alerts.yml"])}

    assert alerts == {"IssStoredDataStale", "IssConsumerLagHigh", "IssDeadLettersArriving"}


def test_switching_the_rules_off_leaves_no_rule_file() -> None:
    rendered = helm_template(sets={"alerting.rules.enabled": "false"})
    files = prometheus_files(rendered)

    assert "alerts.yml" not in files
    assert "rule_files" not in yaml.safe_load(files["prometheus.yml"])


def test_no_alertmanager_is_deployed_or_configured_by_default(defaults: Rendered) -> None:
    assert "alertmanager" not in defaults.components()
    assert "alerting" not in yaml.safe_load(prometheus_files(defaults)["prometheus.yml"])


def test_the_bundled_and_existing_alertmanagers_receive_the_alerts() -> None:
    rendered = helm_template(
        sets={
            "alertmanager.enabled": "true",
            "alerting.alertmanagers[0]": "alertmanager-operated.monitoring.svc:9093",
        }
    )
    config = yaml.safe_load(prometheus_files(rendered)["prometheus.yml"])
    (targets,) = [c["targets"] for c in config["alerting"]["alertmanagers"][0]["static_configs"]]

    assert targets == [
        "iss-iss-tracker-alertmanager.iss-tracker.svc:9093",
        "alertmanager-operated.monitoring.svc:9093",
    ]
    secret = rendered.component("Secret", "alertmanager")
    assert yaml.safe_load(secret["stringData"]["alertmanager.yml"])["route"]["receiver"]
    deployment = rendered.component("Deployment", "alertmanager")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--cluster.listen-address=" in args


def test_an_existing_secret_replaces_the_rendered_alertmanager_configuration() -> None:
    rendered = helm_template(
        sets={"alertmanager.enabled": "true", "alertmanager.existingSecret": "my-am"}
    )

    assert not [s for s in rendered.of_kind("Secret") if "alertmanager" in s["metadata"]["name"]]
    volumes = rendered.component("Deployment", "alertmanager")["spec"]["template"]["spec"][
        "volumes"
    ]
    assert {"name": "config", "secret": {"secretName": "my-am"}} in volumes


def test_prometheus_operator_objects_carry_the_same_jobs_and_rules() -> None:
    values = CHART / "ci" / "monitoring-values.yaml"
    rendered = helm_template(values_files=[values])
    bundled = helm_template(sets={"alerting.rules.labels.team": "space"})

    monitors = {
        m["metadata"]["name"]: m["spec"]["podMetricsEndpoints"][0]
        for m in rendered.of_kind("PodMonitor")
    }
    jobs = {
        endpoint["relabelings"][0]["replacement"]
        for endpoint in monitors.values()
        if endpoint["relabelings"][0]["targetLabel"] == "job"
    }
    scraped = {
        job["job_name"]
        for job in yaml.safe_load(prometheus_files(bundled)["prometheus.yml"])["scrape_configs"]
    }
    assert jobs == scraped - {"prometheus"}
    (rule,) = rendered.of_kind("PrometheusRule")
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["spec"] == yaml.safe_load(prometheus_files(bundled)["alerts.yml"])


def test_dashboards_ship_for_an_external_grafana_without_the_bundled_one() -> None:
    rendered = helm_template(values_files=[CHART / "ci" / "monitoring-values.yaml"])

    maps = [
        m for m in rendered.of_kind("ConfigMap") if "grafana_dashboard" in m["metadata"]["labels"]
    ]
    assert "grafana" not in {
        o["metadata"]["labels"]["app.kubernetes.io/component"]
        for o in rendered.of_kind("Deployment")
    }
    assert len(maps) == len(list((CHART / "files" / "dashboards").glob("*.json")))
    assert all(m["metadata"]["annotations"]["grafana_folder"] == "ISS Tracker" for m in maps)
