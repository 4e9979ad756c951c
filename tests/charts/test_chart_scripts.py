"""What the chart runs inside its pods, run here against the local services: the helm test's
fresh-row check and the migration Job against PostgreSQL, and the Prometheus configuration
through promtool."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
import yaml
from psycopg import sql

from iss_devstack.postgres import Postgres
from iss_devstack.prometheus import ensure_installed
from iss_enricher.storage.schema import migrate
from tests.support.chart import Rendered, containers, env_of, grafana_datasources, render

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
    static target; the rest (globals, relabelling rules, regexes, the alerting rules it loads)
    is checked as rendered."""
    data = rendered.component("ConfigMap", "prometheus")["data"]
    config = yaml.safe_load(data["prometheus.yml"])
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    (tmp_path / "alerts.yml").write_text(data["alerts.yml"])
    config["rule_files"] = [str(tmp_path / "alerts.yml")]
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
    assert {
        f"iss-iss-tracker-{c}" for c in ("producer", "enricher", "operator", "liveview")
    } <= jobs
    assert "SUCCESS: 6 rules found" in result.stdout


# Every character that breaks a URL-style DSN.
AWKWARD_PASSWORD = "p@ss:w/rd%"


def resolved_env(container: dict[str, object], secrets: dict[str, str]) -> dict[str, str]:
    """A container's environment as the kubelet gives it: Secret references looked up by
    `secret/key` in `secrets`."""
    env: dict[str, str] = {}
    for name, value in env_of(container).items():
        if isinstance(value, str):
            env[name] = value
        elif "secretKeyRef" in value:
            ref = value["secretKeyRef"]
            env[name] = secrets[f"{ref['name']}/{ref['key']}"]
    return env


def test_the_migration_job_logs_in_with_a_password_of_url_delimiters_and_makes_the_reader(
    controlplane: ControlPlane, postgres: Postgres, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:10]
    writer, reader, database = f"writer_{suffix}", f"reader_{suffix}", f"test_{suffix}"
    with psycopg.connect(postgres.admin_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}").format(
                sql.Identifier(writer), sql.Literal(AWKWARD_PASSWORD)
            )
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(database), sql.Identifier(writer)
            )
        )
    rendered = render(
        controlplane,
        sets={
            "database.enabled": "false",
            "database.existingSecret": "db",
            "database.external.host": "127.0.0.1",
            "database.external.port": str(postgres.port),
            "database.name": database,
            "database.user": writer,
            "database.sslmode": "disable",
            "database.reader.user": reader,
            "database.reader.existingSecret": "reader",
        },
    )
    job = next(containers(rendered.component("Job", "migrate")))
    mount = "/var/run/secrets/iss-tracker/reader"
    (tmp_path / "password").write_text(AWKWARD_PASSWORD[::-1])
    args = [arg.replace(mount, str(tmp_path)) for arg in job["args"]]
    env = resolved_env(job, {"db/password": AWKWARD_PASSWORD})
    assert AWKWARD_PASSWORD not in env["ISS_ENRICHER_DATABASE_DSN"]

    result = subprocess.run(
        [sys.executable, "-m", "iss_enricher.migrate", *args],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert f"read-only role {reader} ready" in result.stdout
    grafana = next(s for s in grafana_datasources(rendered) if s["uid"] == "iss-postgres")
    assert grafana["user"] == reader
    with psycopg.connect(
        host="127.0.0.1",
        port=postgres.port,
        dbname=database,
        user=reader,
        password=AWKWARD_PASSWORD[::-1],
    ) as conn:
        assert conn.execute("SELECT count(*) FROM positions").fetchone() == (0,)
