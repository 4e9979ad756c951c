"""A read-only database role for dashboards: it may read every table, and write none."""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)


def ensure_reader(dsn: str, role: str, password: str) -> None:
    """Create or update `role` as a login role with SELECT on the current and future tables of
    the `public` schema, and nothing else. Idempotent; the password is set on every run."""
    ident = sql.Identifier(role)
    with psycopg.connect(dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        verb = sql.SQL("ALTER ROLE" if exists else "CREATE ROLE")
        conn.execute(
            sql.SQL("{} {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                verb, ident, sql.Literal(password)
            )
        )
        database = sql.Identifier(conn.info.dbname)
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, ident))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(ident))
        future = "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {}"
        conn.execute(sql.SQL(future).format(ident))
    logger.info("read-only role %s %s", role, "updated" if exists else "created")
