"""`iss-migrate`: create or update the positions schema (run before the enricher starts)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from iss_enricher.settings import EnricherSettings
from iss_enricher.storage.reader import ensure_reader
from iss_enricher.storage.schema import load_migrations, migrate
from iss_runtime import logs

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="iss-migrate",
        description="Apply pending schema migrations to the database in ISS_ENRICHER_DATABASE_DSN "
        "(TimescaleDB migrations only where the extension is available).",
    )
    parser.add_argument("--dsn", help="libpq connection string (overrides the environment)")
    parser.add_argument("--log-format", choices=["json", "text"])
    parser.add_argument(
        "--reader-role",
        help="also create or update this read-only role (SELECT on the tables), for dashboards",
    )
    parser.add_argument(
        "--reader-password-file",
        type=Path,
        help="file holding the read-only role's password (required with --reader-role)",
    )
    args = parser.parse_args(argv)
    if args.reader_role and not args.reader_password_file:
        parser.error("--reader-role needs --reader-password-file")
    settings = EnricherSettings()
    logs.configure(args.log_format or settings.log_format, settings.log_level)
    dsn = args.dsn or settings.database_dsn.get_secret_value()
    applied = migrate(dsn)
    known = len(load_migrations())
    logger.info("applied %d migration(s); %d known", len(applied), known)
    for migration in applied:
        print(f"applied {migration.version:04d}_{migration.name}")
    if args.reader_role:
        password = args.reader_password_file.read_text(encoding="utf-8").strip()
        ensure_reader(dsn, args.reader_role, password)
        print(f"read-only role {args.reader_role} ready")


if __name__ == "__main__":
    main()
