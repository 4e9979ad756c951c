"""What the chart runs inside its pods, run here against the local services: the helm test's
fresh-row check against PostgreSQL, and the Prometheus configuration through promtool."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
import yaml

from iss_devstack.prometheus import ensure_installed
from iss_enricher.storage.schema import migrate
from tests.charts.fixtures import Rendered, containers, env_of, render

if TYPE_CHECKING:
    from iss_devstack.controlplane import ControlPlane

pytestmark = [pytest.mark.services, pytest.mark.controlplane]


@pytest.fixture(scope="module")
def rendered(controlplane: ControlPlane) -> Rendered:
    return render(controlplane, sets={"liveview.enabled": "true"})


def run_fresh_row_check(rendered: Rendered, dsn: str) -> subprocess.CompletedProcess[str]:
    """The helm test pod's command, with the pod's environment but this database."""
    container = next(containers(rendered.component("Pod", "test")))
    command = container["command"]
    assert command[:2] == ["python", "-c"]
    env = {
        **os.environ,
        "ISS_TEST_DATABASE_DSN": dsn,
        "MAX_ROW_AGE_SECONDS": env_of(container)["MAX_ROW_AGE_SECONDS"],
    }
    return subprocess.run(
        [sys.executable, "-c", command[2]],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def insert_position(dsn: str, stored_ago_seconds: int) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(
            """
            INSERT INTO positions (norad_id, event_time, latitude, longitude, source,
                subsolar_latitude, subsolar_longitude, ground_daylight, local_solar_time_h,
                stored_at)
            VALUES (25544, now() - make_interval(secs => %(ago)s), 51.2, -12.5, 'sgp4',
                -19.9, 10.0, true, 12.0, now() - make_interval(secs => %(ago)s))
            """,
            {"ago": stored_ago_seconds},
        )


def test_helm_test_passes_when_a_fresh_row_was_stored(rendered: Rendered, pg_dsn: str) -> None:
    migrate(pg_dsn)
    insert_position(pg_dsn, stored_ago_seconds=10)
    result = run_fresh_row_check(rendered, pg_dsn)
    assert result.returncode == 0, result.stderr
    assert "newest row age" in result.stdout


def test_helm_test_fails_when_the_newest_row_is_stale(rendered: Rendered, pg_dsn: str) -> None:
    migrate(pg_dsn)
    insert_position(pg_dsn, stored_ago_seconds=3600)
    result = run_fresh_row_check(rendered, pg_dsn)
    assert result.returncode == 1
    assert "newest row age: 36" in result.stdout  # a verdict, not a crash


def test_helm_test_fails_when_nothing_was_stored(rendered: Rendered, pg_dsn: str) -> None:
    migrate(pg_dsn)
    result = run_fresh_row_check(rendered, pg_dsn)
    assert result.returncode == 1
    assert "newest row age: None" in result.stdout


def test_prometheus_configuration_passes_promtool(rendered: Rendered, tmp_path: Path) -> None:
    """promtool from Debian lacks Kubernetes discovery, so each job's discovery is swapped for a
    static target; the rest (globals, relabelling rules, regexes) is checked as rendered."""
    text = rendered.component("ConfigMap", "prometheus")["data"]["prometheus.yml"]
    config = yaml.safe_load(text)
    for job in config["scrape_configs"]:
        if job.pop("kubernetes_sd_configs", None) is not None:
            job["static_configs"] = [{"targets": ["127.0.0.1:9"]}]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    promtool = Path(ensure_installed()).with_name("promtool")
    result = subprocess.run(
        [str(promtool), "check", "config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert {"iss-producer", "iss-enricher", "iss-operator", "iss-liveview"} <= jobs
