"""`make up` / `make down`: the whole pipeline as local processes on the documented ports."""

from __future__ import annotations

import functools
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

from iss_contract.topics import DEADLETTER_TOPIC, ENRICHED_TOPIC, RAW_TOPIC
from iss_devstack.docker import stop_all
from iss_devstack.errors import DevstackError
from iss_devstack.kafka import Kafka
from iss_devstack.postgres import Postgres
from iss_devstack.procs import Process, pid_file_alive, port_open, run, stop_pid_file
from iss_devstack.progress import say, step
from iss_devstack.prometheus import Prometheus
from iss_devstack.settings import DevstackSettings

DATABASE = "iss"
LIVE_API = "https://api.wheretheiss.at/v1/satellites/25544"


@dataclass(frozen=True)
class Component:
    """A pipeline process `make up` runs: its command, environment and where it reports health."""

    name: str
    argv: list[str]
    env: dict[str, str]
    health_url: str


def services(settings: DevstackSettings) -> tuple[Kafka, Postgres, Prometheus]:
    """The three services of the local stack, on its configured ports."""
    return (
        Kafka.for_devstack(settings),
        Postgres.for_devstack(settings),
        Prometheus.for_devstack(settings),
    )


def live_api_reachable(timeout: float = 3.0) -> bool:
    try:
        return requests.get(LIVE_API, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def components(settings: DevstackSettings, dsn: str, sources: str | None) -> list[Component]:
    bootstrap = f"127.0.0.1:{settings.kafka_port}"
    producer_metrics = settings.producer_metrics_port
    enricher_metrics = settings.enricher_metrics_port
    venv_bin = Path(sys.executable).parent
    state = settings.state_dir
    producer_env = {
        "ISS_PRODUCER_BOOTSTRAP_SERVERS": bootstrap,
        "ISS_PRODUCER_METRICS_PORT": str(producer_metrics),
        "ISS_PRODUCER_METRICS_HOST": "127.0.0.1",
        "ISS_PRODUCER_LOG_FORMAT": "text",
    }
    if sources is not None:
        producer_env["ISS_PRODUCER_SOURCES"] = sources
    return [
        Component(
            name="producer",
            argv=[str(venv_bin / "iss-producer")],
            env=producer_env,
            health_url=f"http://127.0.0.1:{producer_metrics}/healthz",
        ),
        Component(
            name="enricher",
            argv=[str(venv_bin / "iss-enricher")],
            env={
                "ISS_ENRICHER_BOOTSTRAP_SERVERS": bootstrap,
                "ISS_ENRICHER_DATABASE_DSN": dsn,
                "ISS_ENRICHER_METRICS_PORT": str(enricher_metrics),
                "ISS_ENRICHER_METRICS_HOST": "127.0.0.1",
                "ISS_ENRICHER_RECOVERY_DIRECTORY": str(state / "enricher-recovery"),
            },
            health_url=f"http://127.0.0.1:{enricher_metrics}/metrics",
        ),
        Component(
            name="liveview",
            argv=[str(venv_bin / "iss-liveview")],
            env={
                "ISS_LIVEVIEW_BOOTSTRAP_SERVERS": bootstrap,
                "ISS_LIVEVIEW_PORT": str(settings.liveview_port),
                "ISS_LIVEVIEW_METRICS_PORT": str(settings.liveview_metrics_port),
            },
            health_url=f"http://127.0.0.1:{settings.liveview_port}/healthz",
        ),
    ]


def _process(settings: DevstackSettings, component: Component) -> Process:
    run_dir = settings.state_dir / "run"
    return Process(
        name=component.name,
        argv=component.argv,
        env=component.env,
        log_path=run_dir / f"{component.name}.log",
        pid_path=run_dir / f"{component.name}.pid",
    )


def _healthy(url: str) -> bool:
    return requests.get(url, timeout=2).status_code == 200


def ensure_database(postgres: Postgres) -> str:
    """The `iss` role and database the pipeline writes to; the local server trusts 127.0.0.1."""
    with psycopg.connect(postgres.admin_dsn, autocommit=True) as conn:
        if (
            conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (DATABASE,)).fetchone()
            is None
        ):
            conn.execute(f"CREATE ROLE {DATABASE} LOGIN")
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
        ).fetchone()
        if exists is None:
            conn.execute(f"CREATE DATABASE {DATABASE} OWNER {DATABASE}")
    return f"postgresql://{DATABASE}@127.0.0.1:{postgres.port}/{DATABASE}"


def up(settings: DevstackSettings) -> None:
    """Start everything that is not already running, then print where to look."""
    started = time.monotonic()
    kafka, postgres, prometheus = services(settings)
    for service in (kafka, postgres, prometheus):
        if service.process.pid_path.exists() and port_open(service.port):
            say(f"{service.process.name} is already running on 127.0.0.1:{service.port}")
        else:
            service.start()
    with step("creating topics"):
        kafka.create_topic(RAW_TOPIC, 3)
        kafka.create_topic(ENRICHED_TOPIC, 3)
        kafka.create_topic(DEADLETTER_TOPIC, 1)
    dsn = ensure_database(postgres)
    venv_bin = Path(sys.executable).parent
    with step("migrating the database schema"):
        run([venv_bin / "iss-migrate", "--dsn", dsn], what="iss-migrate")

    sources = settings.producer_sources
    if sources is not None:
        say(f"the producer uses the sources you chose: {sources}")
    elif live_api_reachable():
        say("live ISS APIs are reachable: the producer polls wheretheiss.at (fallback SGP4)")
    else:
        sources = "sgp4"
        say(
            "live ISS APIs are NOT reachable: the producer propagates the bundled TLE with SGP4 "
            "(real positions; accuracy decays with the TLE's age)"
        )
    for component in components(settings, dsn, sources):
        process = _process(settings, component)
        if process.pid_path.exists() and pid_file_alive(process.pid_path):
            say(f"{component.name} is already running")
            continue
        with step(f"starting the {component.name}"):
            process.start()
            process.wait_until(functools.partial(_healthy, component.health_url), 90, "healthy")
    for job, port in (
        ("iss-producer", settings.producer_metrics_port),
        ("iss-enricher", settings.enricher_metrics_port),
        ("iss-liveview", settings.liveview_metrics_port),
    ):
        prometheus.add_target(job, f"127.0.0.1:{port}")

    say(f"the pipeline is up ({time.monotonic() - started:.0f}s)")
    print(
        "\n".join(
            [
                "",
                f"  Live view     http://127.0.0.1:{settings.liveview_port}/",
                f"  Prometheus    {prometheus.url}/graph",
                f"  Kafka         {kafka.bootstrap}  (topics {RAW_TOPIC}, {ENRICHED_TOPIC}, "
                f"{DEADLETTER_TOPIC})",
                f"  PostgreSQL    psql {dsn}",
                f"  Logs          {settings.state_dir / 'run'}/*.log",
                "",
                "  make status    components, freshness, lag, latest position",
                "  make down      stop everything (data is kept for the next `make up`)",
                "",
            ]
        )
    )


def down(settings: DevstackSettings) -> None:
    """Stop, in reverse order, everything `up` started. Data stays for the next `up`."""
    run_dir = settings.state_dir / "run"
    names = ["liveview", "enricher", "producer"]
    for name in names:
        if stop_pid_file(run_dir / f"{name}.pid", grace=30):
            say(f"stopped the {name}")
    kafka, postgres, prometheus = services(settings)
    for service in (prometheus, kafka, postgres):
        if stop_pid_file(service.process.pid_path, 60, service.process.stop_signal):
            say(f"stopped {service.process.name}")
    for version in stop_all(settings):
        say(f"stopped dockerd {version} (its images stay)")
    say("everything `make up` started is stopped")


def reset(settings: DevstackSettings) -> None:
    """Stop everything and delete the stack's data."""
    down(settings)
    if settings.state_dir.exists():
        shutil.rmtree(settings.state_dir)
    say(f"removed {settings.state_dir}")


def check_ports_free(settings: DevstackSettings) -> None:
    for port in (settings.kafka_port, settings.postgres_port, settings.prometheus_port):
        if port_open(port):
            raise DevstackError(f"port {port} is taken by something `make up` did not start")
