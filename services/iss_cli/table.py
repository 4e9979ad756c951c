"""Render a status report as a readable table (pure: text in, text out)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from iss_cli.report import Limits, Measure, Position, Report, State

MARKS = {State.UP: "up", State.DOWN: "DOWN", State.ABSENT: "-"}


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def duration(seconds: float) -> str:
    """A short human duration: 850 ms, 4.2 s, 3 min 5 s, 2 h 10 min."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


def _measure(measure: Measure, render: str) -> str:
    if measure.value is None:
        return "unknown" + (f" ({measure.source})" if measure.source else "")
    return render + (f"  ({measure.source})" if measure.source else "")


def coordinates(position: Position) -> str:
    lat = f"{abs(position.latitude):.2f}°{'N' if position.latitude >= 0 else 'S'}"
    lon = f"{abs(position.longitude):.2f}°{'E' if position.longitude >= 0 else 'W'}"
    altitude = "" if position.altitude_km is None else f", {position.altitude_km:.1f} km"
    source = "" if position.source is None else f" [{position.source}]"
    when = position.event_time.strftime("%Y-%m-%d %H:%M:%SZ")
    return f"NORAD {position.norad_id} at {when}: {lat} {lon}{altitude}{source}"


def render(report: Report, limits: Limits, problems: list[str]) -> str:
    """The whole report: components, data, and a verdict line."""
    lines = [
        f"ISS Tracker status: {report.target}  ({report.at.strftime('%Y-%m-%d %H:%M:%SZ')})",
        "",
    ]
    rows = [("COMPONENT", "STATE", "DETAIL")]
    rows += [(c.name, MARKS[c.state], c.detail) for c in report.components]
    lines += _columns(rows)
    lines.append("")

    def age(m: Measure, limit: float | None = None) -> str:
        if m.value is None:
            return _measure(m, "")
        text = duration(m.value) + " old"
        if limit is not None:
            text += f" (limit {duration(limit)})"
        return _measure(m, text)

    lag = report.consumer_lag
    dead = report.dead_letters
    data = [
        ("DATA", ""),
        ("stored data", age(report.stored_freshness_s, limits.max_freshness_s)),
        ("raw input", age(report.input_freshness_s)),
        (
            "consumer lag",
            _measure(lag, f"{lag.value:.0f} messages" if lag.value is not None else ""),
        ),
        ("latest position", coordinates(report.latest) if report.latest else "none"),
        ("dead letters", _measure(dead, f"{dead.value:.0f}" if dead.value is not None else "")),
    ]
    lines += _columns(data)
    lines.append("")
    if problems:
        lines.append("UNHEALTHY")
        lines += [f"  - {p}" for p in problems]
    else:
        lines.append("HEALTHY")
    return "\n".join(lines) + "\n"


def as_json(report: Report, problems: list[str]) -> str:
    def plain(value: Any) -> Any:
        return value.isoformat() if hasattr(value, "isoformat") else str(value)

    body = asdict(report) | {"healthy": not problems, "problems": problems}
    return json.dumps(body, default=plain, indent=2) + "\n"
