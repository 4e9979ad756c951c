"""Schema migrations against a real PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
import pytest

from iss_enricher.storage.schema import (
    Migration,
    applied_versions,
    check_syntax,
    extension_available,
    load_migrations,
    migrate,
)

pytestmark = pytest.mark.services

POSITIONS = {
    "norad_id": ("integer", "NO"),
    "event_time": ("timestamp with time zone", "NO"),
    "latitude": ("double precision", "NO"),
    "longitude": ("double precision", "NO"),
    "altitude_km": ("double precision", "YES"),
    "source": ("text", "NO"),
    "sequence": ("bigint", "YES"),
    "ground_speed_kmh": ("double precision", "YES"),
    "heading_deg": ("double precision", "YES"),
    "orbital_speed_kmh": ("double precision", "YES"),
    "subsolar_latitude": ("double precision", "NO"),
    "subsolar_longitude": ("double precision", "NO"),
    "ground_daylight": ("boolean", "NO"),
    "satellite_sunlit": ("boolean", "YES"),
    "local_solar_time_h": ("double precision", "NO"),
    "footprint_radius_km": ("double precision", "YES"),
    "stored_at": ("timestamp with time zone", "NO"),
}
POSITIONS_1M = {
    "norad_id": ("integer", "NO"),
    "bucket": ("timestamp with time zone", "NO"),
    "samples": ("integer", "NO"),
    "mean_ground_speed_kmh": ("double precision", "YES"),
    "mean_orbital_speed_kmh": ("double precision", "YES"),
    "min_altitude_km": ("double precision", "YES"),
    "max_altitude_km": ("double precision", "YES"),
}


def columns(
    conn: psycopg.Connection[tuple[str, str, str]], table: str
) -> dict[str, tuple[str, str]]:
    rows = conn.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_name = %s",
        (table,),
    ).fetchall()
    return {name: (kind, nullable) for name, kind, nullable in rows}


def primary_key(conn: psycopg.Connection[Any], table: str) -> list[str]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_index i"
        " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = %s::regclass AND i.indisprimary"
        " ORDER BY array_position(i.indkey::int2[], a.attnum)",
        (table,),
    ).fetchall()
    return [r[0] for r in rows]


def test_migrations_create_the_contract_tables_keys_and_indexes(pg_dsn: str) -> None:
    migrate(pg_dsn)
    with psycopg.connect(pg_dsn) as conn:
        assert columns(conn, "positions") == POSITIONS
        assert columns(conn, "positions_1m") == POSITIONS_1M
        assert primary_key(conn, "positions") == ["norad_id", "event_time"]
        assert primary_key(conn, "positions_1m") == ["norad_id", "bucket"]
        indexes: dict[str, str] = dict(
            conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'positions'"
            ).fetchall()
        )
        assert "(event_time DESC)" in indexes["positions_event_time_idx"]


def test_migrating_again_changes_nothing(pg_dsn: str) -> None:
    first = migrate(pg_dsn)
    assert [m.version for m in first][:1] == [1]
    assert migrate(pg_dsn) == []


def test_the_timescaledb_migration_runs_only_where_the_extension_is_available(
    pg_dsn: str,
) -> None:
    applied = [m.version for m in migrate(pg_dsn)]
    with psycopg.connect(pg_dsn) as conn:
        available = extension_available(conn, "timescaledb")
        assert (2 in applied) is available
        assert (2 in applied_versions(conn)) is available


def test_the_timescaledb_migration_declares_its_extension() -> None:
    by_version = {m.version: m for m in load_migrations()}
    assert by_version[1].requires_extension is None
    assert by_version[2].requires_extension == "timescaledb"
    for word in (
        "create_hypertable",
        "add_retention_policy",
        "add_compression_policy",
        "timescaledb.continuous",
    ):
        assert word in by_version[2].sql


@pytest.mark.parametrize("migration", load_migrations(), ids=lambda m: m.name)
def test_every_migration_is_accepted_by_the_postgresql_parser(
    pg_dsn: str, migration: Migration
) -> None:
    with psycopg.connect(pg_dsn) as conn:
        check_syntax(conn, migration.sql)


def test_the_parser_check_rejects_a_broken_timescaledb_migration(pg_dsn: str) -> None:
    timescale = next(m for m in load_migrations() if m.requires_extension == "timescaledb")
    broken = replace(timescale, sql=timescale.sql.replace("WITH NO DATA", "WITH NO DATUM"))
    assert broken.sql != timescale.sql
    with psycopg.connect(pg_dsn) as conn, pytest.raises(psycopg.errors.SyntaxError):
        check_syntax(conn, broken.sql)


def test_a_pending_timescaledb_migration_is_applied_once_the_extension_appears(
    pg_dsn: str,
) -> None:
    plain = [m for m in load_migrations() if m.requires_extension is None]
    # Stand-in for a server that gained an extension: plpgsql is always available.
    later = replace(
        plain[0], version=99, name="later", sql="SELECT 1;", requires_extension="plpgsql"
    )
    assert [m.version for m in migrate(pg_dsn, [*plain, later])] == [1, 99]
