"""`iss-migrate` against a real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest

pytestmark = pytest.mark.services


def run_migrate(dsn: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ISS_ENRICHER_DATABASE_DSN=dsn)
    return subprocess.run(
        [sys.executable, "-m", "iss_enricher.migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_iss_migrate_creates_the_schema_and_says_what_it_applied(pg_dsn: str) -> None:
    first = run_migrate(pg_dsn)
    assert "applied 0001_tables" in first.stdout
    with psycopg.connect(pg_dsn) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        }
    assert {"positions", "positions_1m", "schema_migrations"} <= tables
    assert run_migrate(pg_dsn).stdout == ""
