"""`make up` and `make down` from a clean state, as a new user runs them."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from iss_devstack.procs import port_open
from iss_devstack.settings import REPO_ROOT
from tests.support.ports import free_port

pytestmark = pytest.mark.services


@pytest.fixture
def stack_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    ports = {
        name: str(free_port())
        for name in (
            "KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "POSTGRES_PORT", "PROMETHEUS_PORT",
            "PRODUCER_METRICS_PORT", "ENRICHER_METRICS_PORT", "LIVEVIEW_PORT",
            "LIVEVIEW_METRICS_PORT",
        )
    }  # fmt: skip
    env = {
        **os.environ,
        "ISS_DEVSTACK_STATE_DIR": str(tmp_path / "state"),
        # Tests talk to 127.0.0.1 only: no probe of the public APIs.
        "ISS_DEVSTACK_PRODUCER_SOURCES": "sgp4",
        **{f"ISS_DEVSTACK_{name}": port for name, port in ports.items()},
        "ISS_TRACKER_BOOTSTRAP": f"127.0.0.1:{ports['KAFKA_PORT']}",
        "ISS_TRACKER_PROMETHEUS": f"http://127.0.0.1:{ports['PROMETHEUS_PORT']}",
        "ISS_TRACKER_DSN": f"postgresql://iss@127.0.0.1:{ports['POSTGRES_PORT']}/iss",
        "ISS_TRACKER_PRODUCER_METRICS": f"http://127.0.0.1:{ports['PRODUCER_METRICS_PORT']}/metrics",
        "ISS_TRACKER_ENRICHER_METRICS": f"http://127.0.0.1:{ports['ENRICHER_METRICS_PORT']}/metrics",
        "ISS_TRACKER_OPERATOR_METRICS": "",
        "ISS_TRACKER_LIVEVIEW_HEALTH": f"http://127.0.0.1:{ports['LIVEVIEW_PORT']}/healthz",
    }
    yield env
    make("down", env, check=False)


def make(target: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO_ROOT), target],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if check:
        assert result.returncode == 0, f"make {target} failed:\n{result.stdout}\n{result.stderr}"
    return result


def newest_row_age(dsn: str) -> float | None:
    with psycopg.connect(dsn, connect_timeout=3) as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM now() - max(stored_at)), count(*) FROM positions"
        ).fetchone()
    assert row is not None
    return None if row[0] is None else float(row[0])


def wait_for_fresh_row(dsn: str, within: float) -> float:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        age = newest_row_age(dsn)
        if age is not None and age < 10:
            return age
        time.sleep(1)
    raise AssertionError(f"no row younger than 10 s in positions within {within:.0f}s")


def row_count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM positions").fetchone()
    assert row is not None
    return int(row[0])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def pids_of(state: Path) -> dict[str, int]:
    return {path.stem: int(path.read_text()) for path in state.rglob("*.pid")}


def test_make_up_flows_within_a_minute_and_make_down_leaves_nothing_running(
    stack_env: dict[str, str],
) -> None:
    state = Path(stack_env["ISS_DEVSTACK_STATE_DIR"])
    dsn = stack_env["ISS_TRACKER_DSN"]

    up = make("up", stack_env)
    assert "sgp4" in up.stderr.lower(), "make up must say which source the producer uses"
    assert f"http://127.0.0.1:{stack_env['ISS_DEVSTACK_LIVEVIEW_PORT']}/" in up.stdout
    wait_for_fresh_row(dsn, within=60)

    status = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "iss-tracker"), "status", "--local"],
        env=stack_env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert status.returncode == 0, f"status is not healthy:\n{status.stdout}\n{status.stderr}"

    started = pids_of(state)
    assert {"kafka", "postgres", "prometheus", "producer", "enricher", "liveview"} <= set(started)
    make("down", stack_env)
    still_running = [name for name, pid in started.items() if alive(pid)]
    assert still_running == [], f"still running after make down: {still_running}"
    for port in ("KAFKA_PORT", "POSTGRES_PORT", "PROMETHEUS_PORT", "LIVEVIEW_PORT"):
        assert not port_open(int(stack_env[f"ISS_DEVSTACK_{port}"]))

    make("up", stack_env)
    kept = row_count(dsn)
    assert kept > 0, "make up after make down lost the stored positions"
    deadline = time.monotonic() + 60
    while row_count(dsn) <= kept:
        assert time.monotonic() < deadline, "no new rows within a minute of the second make up"
        time.sleep(1)
