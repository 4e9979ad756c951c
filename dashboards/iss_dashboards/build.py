"""Render the dashboards to JSON (``iss-dashboards``), or check the committed JSON is current.

iss-dashboards            # write dashboards/generated/*.json
iss-dashboards --check    # exit 1 if any committed file differs from what the code renders
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from grafanalib import core
from grafanalib._gen import DashboardEncoder

from iss_dashboards import validate
from iss_dashboards.catalog import DASHBOARDS
from iss_dashboards.provisioning import configmaps

log = logging.getLogger(__name__)


class InvalidDashboardError(ValueError):
    """A dashboard fails the checks in :mod:`iss_dashboards.validate`."""


def default_output_dir() -> Path:
    """``dashboards/generated`` next to this package in the source tree."""
    return Path(__file__).resolve().parent.parent / "generated"


def render(dashboard: core.Dashboard) -> str:
    """Stable JSON text: sorted keys, two-space indent, trailing newline."""
    data = json.loads(json.dumps(dashboard.to_json_data(), cls=DashboardEncoder))
    problems = validate.problems(data)
    if problems:
        raise InvalidDashboardError(f"{dashboard.title}: " + "; ".join(problems))
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render_all() -> dict[str, str]:
    return {name: render(build()) for name, build in DASHBOARDS.items()}


def stale_files(out_dir: Path, rendered: Mapping[str, str]) -> list[str]:
    """Why the files in ``out_dir`` differ from ``rendered``: missing, stale or unexpected."""
    reasons: list[str] = []
    for name, text in sorted(rendered.items()):
        path = out_dir / name
        if not path.exists():
            reasons.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            reasons.append(f"{path}: differs from what the dashboard code renders")
    for path in sorted(out_dir.glob("*.json")):
        if path.name not in rendered:
            reasons.append(f"{path}: no dashboard code renders this file")
    return reasons


def write_all(out_dir: Path, rendered: Mapping[str, str]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(rendered.items()):
        path = out_dir / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iss-dashboards", description="Render the Grafana dashboards to JSON."
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="directory of the generated JSON (default: dashboards/generated in the source tree)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the committed JSON is missing or stale",
    )
    parser.add_argument(
        "--list-configmaps",
        action="store_true",
        help="print 'configmap-name key file' for each dashboard and exit",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    out_dir: Path = args.out or default_output_dir()
    if args.list_configmaps:
        for entry in configmaps(out_dir):
            print(f"{entry.name} {entry.key} {entry.path}")
        return 0
    try:
        rendered = render_all()
    except InvalidDashboardError as error:
        log.error("%s", error)
        return 2
    if args.check:
        reasons = stale_files(out_dir, rendered)
        for reason in reasons:
            log.error("%s", reason)
        if reasons:
            log.error("regenerate with: iss-dashboards (or make dashboards)")
            return 1
        log.info("%d dashboards in %s are up to date", len(rendered), out_dir)
        return 0
    written = write_all(out_dir, rendered)
    for path in written:
        log.info("wrote %s", path)
    log.info("%d dashboards rendered, %d files changed", len(rendered), len(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
