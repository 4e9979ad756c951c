"""The read-only role for dashboards, on a real PostgreSQL."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from iss_enricher.storage.reader import ensure_reader
from iss_enricher.storage.schema import migrate

pytestmark = pytest.mark.services

# Every character that breaks a URL-style DSN.
PASSWORD = "p@ss:w/rd%"


@pytest.fixture
def reader(pg_dsn: str) -> str:
    """A migrated database and the DSN of a fresh read-only role on it (roles are global)."""
    migrate(pg_dsn)
    role = f"reader_{uuid.uuid4().hex[:10]}"
    ensure_reader(pg_dsn, role, PASSWORD)
    return make_conninfo(pg_dsn, user=role, password=PASSWORD)


def test_the_reader_logs_in_with_a_password_full_of_url_delimiters_and_reads(reader: str) -> None:
    with psycopg.connect(reader) as conn:
        assert conn.execute("SELECT count(*) FROM positions").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM positions_1m").fetchone() == (0,)


def test_the_reader_cannot_write(reader: str) -> None:
    with psycopg.connect(reader) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM positions")


def test_the_reader_reads_tables_created_after_it(pg_dsn: str, reader: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("CREATE TABLE later (x int)")

    with psycopg.connect(reader) as conn:
        assert conn.execute("SELECT count(*) FROM later").fetchone() == (0,)


def test_a_second_run_keeps_the_role_and_sets_the_new_password(pg_dsn: str, reader: str) -> None:
    role = psycopg.conninfo.conninfo_to_dict(reader)["user"]
    assert isinstance(role, str)

    ensure_reader(pg_dsn, role, "another")

    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(reader).close()
    psycopg.connect(make_conninfo(pg_dsn, user=role, password="another")).close()
