"""PostgreSQL from Debian packages, run as a non-root user with its own data directory.

TimescaleDB is not packaged for these machines, so the stack runs plain PostgreSQL; the schema
code detects the extension and takes the plain path (see docs/enricher.md).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import psycopg

from iss_devstack.apt import ensure_packages
from iss_devstack.errors import DevstackError
from iss_devstack.procs import Process, free_port, port_open, run
from iss_devstack.progress import step
from iss_devstack.settings import DevstackSettings


def ensure_installed(settings: DevstackSettings) -> Path:
    """The bin folder of the PostgreSQL server, installed from Debian packages when missing."""
    major = settings.postgres_major
    bindir = Path(f"/usr/lib/postgresql/{major}/bin")
    ensure_packages([f"postgresql-{major}"], provides=str(bindir / "postgres"))
    return bindir


def service_user() -> str | None:
    """Who runs the server: ourselves, or, when we are root, the `postgres` system user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"],
            what="creating the postgres system user",
        )
    return "postgres"


def reachable_dir(wanted: Path, user: str | None) -> Path:
    """`wanted`, or, if the service user cannot traverse its parents, a private folder it can."""
    if user is None:
        return wanted
    probe = wanted.parent
    probe.mkdir(parents=True, exist_ok=True)
    result = os.system(f"runuser -u {user} -- test -x {str(probe)!r} >/dev/null 2>&1")
    if result == 0:
        return wanted
    digest = hashlib.sha256(str(wanted).encode()).hexdigest()[:12]
    fallback = Path(tempfile.gettempdir()) / f"iss-tracker-pg-{digest}" / wanted.name
    fallback.parent.mkdir(parents=True, exist_ok=True)
    fallback.parent.chmod(0o755)
    return fallback


# The superuser and the local stack's own role (`make up`, the services' default DSNs) are
# trusted on loopback; any other role (the dashboards' read-only one, a test's) must present its
# password, so tests of passwords and DSNs are real.
HBA = """\
local all all trust
host all postgres,iss 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
"""


class Postgres:
    """A PostgreSQL server on 127.0.0.1 that trusts its `postgres` superuser and the `iss` role
    (development only); every other role logs in with a password (SCRAM), as in a cluster."""

    def __init__(
        self, settings: DevstackSettings, data_dir: Path, port: int, *, durable: bool = True
    ) -> None:
        self.settings = settings
        self.user = service_user()
        self.data_dir = reachable_dir(data_dir, self.user)
        self.run_dir = data_dir.parent
        self.port = port
        self.durable = durable
        self.process = Process(
            name="postgres",
            argv=[],
            log_path=self.run_dir / "postgres.log",
            pid_path=self.run_dir / "postgres.pid",
            user=self.user,
            stop_signal=signal.SIGINT,
        )

    @classmethod
    def for_devstack(cls, settings: DevstackSettings) -> Postgres:
        """The server of the local stack (`make up`), on its configured port."""
        return cls(settings, settings.state_dir / "postgres" / "data", settings.postgres_port)

    @classmethod
    def for_tests(cls, settings: DevstackSettings, data_dir: Path) -> Postgres:
        return cls(settings, data_dir / "pgdata", free_port(), durable=False)

    @property
    def admin_dsn(self) -> str:
        return self.dsn("postgres")

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 60.0) -> None:
        bindir = ensure_installed(self.settings)
        if port_open(self.port):
            raise DevstackError(
                f"port {self.port} is already in use; is another PostgreSQL running?"
            )
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(bindir)
        argv = [
            str(bindir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
            "-c", "max_connections=200", "-c", "shared_buffers=256MB",
            "-c", "work_mem=16MB", "-c", "max_wal_size=2GB",
        ]  # fmt: skip
        if not self.durable:
            # Test databases are throwaway: trade crash safety for speed.
            argv += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        self.process.argv = argv
        with step(f"starting PostgreSQL {self.settings.postgres_major} on 127.0.0.1:{self.port}"):
            self.process.start()
            self.process.wait_until(self.ready, timeout, "it accepts connections")

    def _initdb(self, bindir: Path) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            shutil.chown(self.data_dir, self.user, self.user)
            self.process.log_path.parent.mkdir(parents=True, exist_ok=True)
            self.process.log_path.touch()
            shutil.chown(self.process.log_path, self.user, self.user)
        self.data_dir.chmod(0o700)
        with step(f"initialising a PostgreSQL cluster in {self.data_dir}"):
            run(
                [
                    bindir / "initdb", "-D", self.data_dir, "-U", "postgres", "--auth=trust",
                    "--encoding=UTF8", "--locale=C", "--no-sync",
                ],
                what="initdb",
                user=self.user,
                timeout=300,
            )  # fmt: skip
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(HBA)
        if self.user is not None:
            shutil.chown(hba, self.user, self.user)

    def ready(self) -> bool:
        if not port_open(self.port):
            return False
        with psycopg.connect(self.admin_dsn, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True

    def create_database(self, name: str) -> str:
        """Create an empty database and return its DSN."""
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def stop(self) -> None:
        self.process.stop(grace=30)

    def discard(self) -> None:
        """Stop the server and delete its data (for throwaway test servers)."""
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        if self.data_dir.parent.name.startswith("iss-tracker-pg-"):
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def main() -> None:
    """Run a server in the foreground on the `make up` port: `python -m iss_devstack.postgres`."""
    postgres = Postgres.for_devstack(DevstackSettings())
    postgres.start()
    print(f"PostgreSQL is up: {postgres.admin_dsn} (Ctrl-C stops it)", file=sys.stderr)
    try:
        postgres.process.wait_until_interrupted()
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
