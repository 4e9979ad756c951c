"""The locally built images, run as containers on the stack's own Docker engine.

Containers use the host's network namespace and listen on 127.0.0.1 only, or have no network
at all. The images are built by the session fixture (or reused from the layer cache); without
a working engine the fixture raises and these tests fail.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from iss_devstack.docker import Docker
from iss_devstack.settings import DevstackSettings
from tests.support.names import unique
from tests.support.ports import free_port

pytestmark = pytest.mark.docker

PROJECT_IMAGES = ("producer", "enricher", "operator", "liveview")


def docker(engine: Docker, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        engine.argv(*args), capture_output=True, text=True, timeout=timeout, check=False
    )


@contextlib.contextmanager
def container(engine: Docker, *args: str) -> Iterator[str]:
    """A detached container, removed with its volumes afterwards."""
    name = unique("test")
    started = docker(engine, "run", "--detach", "--name", name, *args)
    assert started.returncode == 0, started.stderr
    try:
        yield name
    finally:
        docker(engine, "rm", "--force", "--volumes", name)


def running(engine: Docker, name: str) -> bool:
    state = docker(engine, "inspect", "--format", "{{.State.Running}}", name)
    return state.stdout.strip() == "true"


def logs(engine: Docker, name: str) -> str:
    result = docker(engine, "logs", name)
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    ("image", "command"),
    [(name, f"iss-{name}") for name in PROJECT_IMAGES] + [("enricher", "iss-migrate")],
)
def test_entrypoint_answers_help_inside_its_image(
    docker_engine: Docker, local_images: dict[str, str], image: str, command: str
) -> None:
    result = docker(
        docker_engine,
        "run", "--rm", "--network=none", "--read-only", "--entrypoint", command,
        local_images[image], "--help",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {command}"), result.stdout


def test_helm_test_pod_command_finds_python_and_psycopg_in_the_enricher_image(
    docker_engine: Docker, local_images: dict[str, str]
) -> None:
    """The chart's `helm test` pod runs `python -c ...` in the enricher image."""
    result = docker(
        docker_engine,
        "run", "--rm", "--network=none", "--read-only", "--entrypoint", "python",
        local_images["enricher"], "-c", "import psycopg, sys; print(sys.executable)",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/opt/iss/bin/python"


@pytest.mark.parametrize("image", PROJECT_IMAGES)
def test_project_image_runs_as_the_unprivileged_iss_user(
    docker_engine: Docker, local_images: dict[str, str], image: str
) -> None:
    result = docker(
        docker_engine, "run", "--rm", "--network=none", "--entrypoint", "id", local_images[image]
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("uid=10001(iss) gid=10001(iss)"), result.stdout


def test_project_images_share_every_layer_but_their_entrypoint(
    docker_engine: Docker, local_images: dict[str, str]
) -> None:
    layers = {
        name: json.loads(
            docker(
                docker_engine, "image", "inspect", "--format", "{{json .RootFS.Layers}}",
                local_images[name],
            ).stdout
        )
        for name in PROJECT_IMAGES
    }  # fmt: skip
    assert len({tuple(stack) for stack in layers.values()}) == 1, layers


def test_postgres_image_accepts_the_configured_user_and_refuses_a_wrong_password(
    docker_engine: Docker, local_images: dict[str, str]
) -> None:
    """Configured as the chart's StatefulSet does, with a read-only root filesystem."""
    port = free_port()
    with container(
        docker_engine,
        "--network=host", "--read-only",
        "--tmpfs", "/tmp", "--tmpfs", "/var/run/postgresql:uid=1000,gid=1000",
        "--tmpfs", "/home/postgres/pgdata:uid=1000,gid=1000",
        "-e", "POSTGRES_USER=iss", "-e", "POSTGRES_DB=iss", "-e", "POSTGRES_PASSWORD=test-only",
        local_images["postgres"], "-c", "listen_addresses=127.0.0.1", "-p", str(port),
    ) as name:  # fmt: skip
        dsn = f"postgresql://iss:test-only@127.0.0.1:{port}/iss"
        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(dsn, connect_timeout=2) as conn:
                    row = conn.execute("SELECT current_user, current_database()").fetchone()
                break
            except psycopg.OperationalError:
                assert running(docker_engine, name), logs(docker_engine, name)
                assert time.monotonic() < deadline, logs(docker_engine, name)
                time.sleep(0.5)
        assert row == ("iss", "iss")
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(f"postgresql://iss:wrong@127.0.0.1:{port}/iss", connect_timeout=2)
        ready = docker(
            docker_engine, "exec", name, "pg_isready", "-h", "127.0.0.1", "-p", str(port),
            "-U", "iss", "-d", "iss",
        )  # fmt: skip
        assert ready.returncode == 0, ready.stdout + ready.stderr
        uid = docker(docker_engine, "exec", name, "id", "-u").stdout.strip()
        assert uid == "1000"


def test_migration_job_command_migrates_the_postgres_image_on_its_plain_postgresql_path(
    docker_engine: Docker, local_images: dict[str, str]
) -> None:
    """The chart's pairing: `iss-migrate` from the enricher image, configured as its Job is."""
    port = free_port()
    with container(
        docker_engine,
        "--network=host", "-e", "POSTGRES_USER=iss", "-e", "POSTGRES_PASSWORD=test-only",
        local_images["postgres"], "-c", "listen_addresses=127.0.0.1", "-p", str(port),
    ) as name:  # fmt: skip
        dsn = f"postgresql://iss:test-only@127.0.0.1:{port}/iss"
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(dsn, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                assert running(docker_engine, name), logs(docker_engine, name)
                assert time.monotonic() < deadline, logs(docker_engine, name)
                time.sleep(0.5)
        migrated = docker(
            docker_engine,
            "run", "--rm", "--network=host", "--read-only", "--tmpfs", "/tmp",
            "--entrypoint", "iss-migrate", "-e", f"ISS_ENRICHER_DATABASE_DSN={dsn}",
            local_images["enricher"],
        )  # fmt: skip
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        with psycopg.connect(dsn) as conn:
            tables = {
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                ).fetchall()
            }
            extensions = {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}
        assert "positions" in tables, tables
        assert "timescaledb" not in extensions


def test_postgres_image_refuses_to_start_without_a_password(
    docker_engine: Docker, local_images: dict[str, str]
) -> None:
    result = docker(
        docker_engine, "run", "--rm", "--network=none", "-e", "POSTGRES_USER=iss",
        local_images["postgres"],
    )  # fmt: skip
    assert result.returncode == 64
    assert "POSTGRES_PASSWORD" in result.stderr


def test_prometheus_image_is_ready_with_kubernetes_service_discovery(
    docker_engine: Docker,
    local_images: dict[str, str],
    devstack_settings: DevstackSettings,
    tmp_path: Path,
) -> None:
    """The chart's scrape configuration finds pods through `kubernetes_sd_configs`."""
    port, api_port = free_port(), free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "scrape_configs:\n"
        "  - job_name: pods\n"
        "    kubernetes_sd_configs:\n"
        "      - role: pod\n"
        f"        api_server: http://127.0.0.1:{api_port}\n"
        "        namespaces:\n"
        "          names: [default]\n"
    )
    config.chmod(0o644)
    tmp_path.chmod(0o755)  # the image's user (nobody) reads the mounted folder
    with container(
        docker_engine,
        "--network=host", "--read-only", "--tmpfs", "/prometheus:uid=65534,gid=65534",
        "-v", f"{tmp_path}:/etc/prometheus:ro",
        local_images["prometheus"],
        "--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus",
        f"--web.listen-address=127.0.0.1:{port}",
    ) as name:  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert running(docker_engine, name), logs(docker_engine, name)
            assert time.monotonic() < deadline, logs(docker_engine, name)
            time.sleep(0.5)
        loaded = requests.get(f"{url}/api/v1/status/config", timeout=5).json()["data"]["yaml"]
        assert "kubernetes_sd_configs" in loaded
        info = requests.get(f"{url}/api/v1/status/buildinfo", timeout=5).json()["data"]
        assert info["version"] == devstack_settings.prometheus_image_version.removeprefix("v")


def test_pause_image_holds_until_stopped_and_exits_cleanly(
    docker_engine: Docker, local_images: dict[str, str]
) -> None:
    with container(docker_engine, "--network=none", local_images["pause"]) as name:
        time.sleep(0.5)
        assert running(docker_engine, name), logs(docker_engine, name)
        started = time.monotonic()
        stopped = docker(docker_engine, "stop", "--time", "10", name)
        assert stopped.returncode == 0, stopped.stderr
        assert time.monotonic() - started < 5, "pause ignored SIGTERM"
        code = docker(docker_engine, "inspect", "--format", "{{.State.ExitCode}}", name)
        assert code.stdout.strip() == "0"
