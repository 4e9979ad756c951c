"""`iss-tracker`: command-line tools for the ISS Tracker pipeline (`iss-tracker status`)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from iss_cli.gather import gather
from iss_cli.report import Limits, problems
from iss_cli.settings import StatusSettings
from iss_cli.table import as_json, render

HEALTHY = 0
UNHEALTHY = 1


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
    return parser.parse_args(argv)


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


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    sys.exit(status(args))


if __name__ == "__main__":
    main()
