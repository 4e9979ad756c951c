"""`iss-tracker`: command-line tools for the ISS Tracker pipeline (`status`, `passes`)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from iss_cli import passes as pass_command
from iss_cli.gather import gather
from iss_cli.report import Limits, problems
from iss_cli.settings import PassesSettings, StatusSettings
from iss_cli.table import as_json, render
from iss_passes import PassError

HEALTHY = 0
UNHEALTHY = 1
BAD_INPUT = 2


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="iss-tracker", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    status = commands.add_parser(
        "status",
        help="components up/down, freshness, lag, latest position, dead letters",
        description="Report on the pipeline. Exits 0 when healthy, 1 when not. "
        "Every option also has an ISS_TRACKER_* environment variable.",
    )
    where = status.add_mutually_exclusive_group()
    where.add_argument(
        "--local", action="store_true", help="the stack `make up` runs (the default)"
    )
    where.add_argument("--namespace", help="a cluster namespace (with --kubeconfig)")
    status.add_argument("--kubeconfig", type=Path, help="kubeconfig of the cluster")
    status.add_argument("--prometheus", metavar="URL", help="Prometheus base URL ('' to skip)")
    status.add_argument("--dsn", help="PostgreSQL connection string ('' to skip)")
    status.add_argument("--bootstrap", metavar="HOST:PORT", help="Kafka bootstrap ('' to skip)")
    status.add_argument(
        "--max-freshness", type=float, dest="max_freshness_s", help="seconds stored data may be old"
    )
    status.add_argument("--max-lag", type=int, help="messages the enricher may be behind")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    passes = commands.add_parser(
        "passes",
        help="when a satellite passes over a place, and whether it can be seen",
        description="Rise, culmination and set of every pass in a window, with azimuths, "
        "maximum elevation and visibility to the eye. Exits 2 on bad input. Every option also "
        "has an ISS_TRACKER_* environment variable.",
    )
    passes.add_argument("--lat", type=float, help="observer latitude, degrees north")
    passes.add_argument("--lon", type=float, help="observer longitude, degrees east")
    passes.add_argument("--height", type=float, help="observer height above WGS-84, metres")
    passes.add_argument("--hours", type=float, help="length of the window (default 24)")
    passes.add_argument(
        "--min-elevation", type=float, help="degrees above the horizon (default 10)"
    )
    passes.add_argument("--norad", type=int, help="NORAD id in the TLE file (default 25544)")
    passes.add_argument(
        "--tle-file", type=Path, help="2- or 3-line TLE file (default: the shipped ISS TLE)"
    )
    passes.add_argument(
        "--start",
        type=_utc_time,
        help="start of the window, ISO 8601 (default now; a time without offset is UTC)",
    )
    passes.add_argument("--json", action="store_true", help="machine-readable output")
    return parser.parse_args(argv)


def _utc_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def settings_from(args: argparse.Namespace) -> StatusSettings:
    overrides: dict[str, Any] = {}
    for name in ("prometheus", "dsn", "bootstrap"):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value or None
    for name in ("kubeconfig", "namespace", "max_freshness_s", "max_lag"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.namespace is not None:
        # In a cluster the local endpoints mean nothing; only what was asked for is probed.
        for name in ("producer_metrics", "enricher_metrics", "operator_metrics", "liveview_health"):
            overrides[name] = None
        for name in ("prometheus", "dsn", "bootstrap"):
            overrides.setdefault(name, None)
    return StatusSettings(**overrides)


def status(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    report = gather(settings)
    limits = Limits(max_freshness_s=settings.max_freshness_s, max_lag=settings.max_lag)
    found = problems(report, limits)
    sys.stdout.write(as_json(report, found) if args.json else render(report, limits, found))
    return HEALTHY if not found else UNHEALTHY


def passes_settings_from(args: argparse.Namespace) -> PassesSettings:
    names = ("lat", "lon", "height", "hours", "min_elevation", "norad", "tle_file")
    overrides = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    return PassesSettings(**overrides)


def passes(args: argparse.Namespace) -> int:
    try:
        settings = passes_settings_from(args)
        start = args.start or datetime.now(UTC)
        prediction = pass_command.predict(settings, start)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return _bad_input(f"{where}: {first['msg']}")
    except (PassError, ValueError) as exc:
        return _bad_input(str(exc))
    render_one = pass_command.as_json if args.json else pass_command.render
    sys.stdout.write(render_one(prediction))
    return HEALTHY


def _bad_input(message: str) -> int:
    sys.stderr.write(f"iss-tracker passes: error: {message}\n")
    return BAD_INPUT


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    sys.exit(passes(args) if args.command == "passes" else status(args))


if __name__ == "__main__":
    main()
