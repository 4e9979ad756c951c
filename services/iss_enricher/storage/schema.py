"""Versioned schema migrations: `NNNN_name.sql` files applied in order, recorded in a table.

A migration whose first lines say `-- requires-extension: NAME` runs only where `NAME` is in
`pg_available_extensions`; elsewhere it stays pending, so a later run on a server that has the
extension applies it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg

logger = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
_REQUIRES = re.compile(r"^--\s*requires-extension:\s*(?P<ext>[a-z0-9_]+)\s*$", re.MULTILINE)
# Any constant works; it only has to be the same for every migrating process.
_ADVISORY_LOCK_KEY = 0x155_7EAC


@dataclass(frozen=True, slots=True)
class Migration:
    """One versioned SQL file."""

    version: int
    name: str
    sql: str
    requires_extension: str | None

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def load_migrations() -> list[Migration]:
    """The migrations shipped with the package, in version order."""
    found: list[Migration] = []
    for entry in resources.files("iss_enricher.storage.migrations").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None:
            continue
        text = entry.read_text(encoding="utf-8")
        required = _REQUIRES.search(text)
        found.append(
            Migration(
                version=int(match["version"]),
                name=match["name"],
                sql=text,
                requires_extension=None if required is None else required["ext"],
            )
        )
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {versions}")
    return found


def extension_available(conn: psycopg.Connection[Any], name: str) -> bool:
    """The server can `CREATE EXTENSION name`."""
    row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = %s", (name,)).fetchone()
    return row is not None


def applied_versions(conn: psycopg.Connection[Any]) -> dict[int, str]:
    """Version -> checksum of every migration recorded as applied."""
    _create_ledger(conn)
    rows = conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
    return {int(r[0]): str(r[1]) for r in rows}


def _create_ledger(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    integer     PRIMARY KEY,
            name       text        NOT NULL,
            checksum   text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def migrate(dsn: str, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply every pending migration the server supports; return those applied now.

    Each migration runs in its own transaction. A session advisory lock serialises concurrent
    runs (several enricher replicas starting at once).
    """
    todo = load_migrations() if migrations is None else migrations
    applied_now: list[Migration] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_ADVISORY_LOCK_KEY,))
        try:
            done = applied_versions(conn)
            for migration in todo:
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        logger.warning(
                            "migration %04d_%s changed after it was applied",
                            migration.version,
                            migration.name,
                        )
                    continue
                ext = migration.requires_extension
                if ext is not None and not extension_available(conn, ext):
                    logger.info(
                        "skipping migration %04d_%s: extension %s is not available",
                        migration.version,
                        migration.name,
                        ext,
                    )
                    continue
                logger.info("applying migration %04d_%s", migration.version, migration.name)
                with conn.transaction():
                    conn.execute(migration.sql.encode("utf-8"))
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum)"
                        " VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                applied_now.append(migration)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_ADVISORY_LOCK_KEY,))
    return applied_now


def check_syntax(conn: psycopg.Connection[Any], statements: str) -> None:
    """Have the server's parser check SQL without running it (raises psycopg.errors.SyntaxError).

    The statements become the body of a PL/pgSQL function that is created, never called, and
    rolled back: with `check_function_bodies` on, PL/pgSQL runs PostgreSQL's own SQL grammar over
    every statement, while names (functions, tables) are only resolved at execution. That is how
    the TimescaleDB migration is checked on a server without the extension.
    """
    tag = "$iss_syntax_check$"
    if tag in statements:
        raise ValueError("statements contain the dollar-quote tag used for checking")
    body = (
        "CREATE FUNCTION pg_temp.iss_syntax_check() RETURNS void LANGUAGE plpgsql AS "
        f"{tag}\nBEGIN\n{statements}\nEND\n{tag}"
    )
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL check_function_bodies = on")
        conn.execute(body.encode("utf-8"))
