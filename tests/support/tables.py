"""Reading what is in a PostgreSQL table."""

from __future__ import annotations

import psycopg


def count(dsn: str, table: str = "positions") -> int:
    """The rows in `table` now."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        return int(row[0])
