"""Expansion of dashboard variables and Grafana's PostgreSQL macros, as Grafana does it.

Grafana's frontend first replaces template variables (``$satellite``, ``${satellite}``,
``$__interval``...); the PostgreSQL backend then expands ``$__name(args)`` macros. This module
does both so tests and benchmarks run exactly the SQL Grafana would send (without TimescaleDB's
``time_bucket``, which Grafana only uses when the datasource has the TimescaleDB option on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
_MACRO = re.compile(r"\$(\w+)\(([^)]*)\)")
_INTERVAL = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$")
_UNIT_SECONDS = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
    "y": 31536000.0,
}


class MacroError(ValueError):
    """The text uses a macro or variable that cannot be expanded."""


def parse_interval(text: str) -> timedelta:
    """A Grafana interval such as ``5s``, ``1m`` or ``100ms``."""
    match = _INTERVAL.match(text.strip().strip("'"))
    if match is None:
        raise MacroError(f"not an interval: {text!r}")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def format_interval(interval: timedelta) -> str:
    """The shortest Grafana spelling of an interval (``90s``, ``5m``, ``250ms``)."""
    millis = round(interval.total_seconds() * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if millis % size == 0 and millis >= size:
            return f"{millis // size}{unit}"
    return f"{millis}ms"


def _rfc3339(moment: datetime) -> str:
    """Go's RFC3339Nano in UTC: no trailing zeros in the fraction, ``Z`` suffix."""
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


@dataclass(frozen=True)
class QueryContext:
    """What Grafana knows when it sends a query: the time range, interval and variables."""

    time_from: datetime
    time_to: datetime
    interval: timedelta = timedelta(seconds=5)
    rate_interval: timedelta = timedelta(minutes=1)
    variables: dict[str, str] = field(default_factory=dict)

    def all_variables(self) -> dict[str, str]:
        range_ = self.time_to - self.time_from
        builtins = {
            "__interval": format_interval(self.interval),
            "__interval_ms": str(round(self.interval.total_seconds() * 1000)),
            "__rate_interval": format_interval(self.rate_interval),
            # Grafana spells the range in whole seconds.
            "__range": f"{round(range_.total_seconds())}s",
            "__range_s": str(round(range_.total_seconds())),
        }
        return {**builtins, **self.variables}


def expand_variables(text: str, context: QueryContext) -> str:
    """Replace ``$name`` and ``${name}`` of known variables; leave macros for the next step."""
    variables = context.all_variables()

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in variables:
            return variables[name]
        if match.group(1):
            raise MacroError(f"unknown variable ${{{name}}}")
        return match.group(0)

    return _VARIABLE.sub(replace, text)


def _time_group(args: list[str]) -> str:
    if len(args) < 2:
        raise MacroError("$__timeGroup needs a time column and an interval")
    seconds = _number(parse_interval(args[1]).total_seconds())
    return f"floor(extract(epoch from {args[0]})/{seconds})*{seconds}"


def _macro(name: str, args: list[str], context: QueryContext) -> str:
    start = _rfc3339(context.time_from)
    end = _rfc3339(context.time_to)
    needs_column = {"__time", "__timeEpoch", "__timeFilter", "__unixEpochFilter"}
    if name in needs_column and not args[0]:
        raise MacroError(f"missing time column argument for ${name}")
    if name == "__time":
        return f'{args[0]} AS "time"'
    if name == "__timeEpoch":
        return f'extract(epoch from {args[0]}) as "time"'
    if name == "__timeFilter":
        return f"{args[0]} BETWEEN '{start}' AND '{end}'"
    if name == "__timeFrom":
        return f"'{start}'"
    if name == "__timeTo":
        return f"'{end}'"
    if name == "__timeGroup":
        return _time_group(args)
    if name == "__timeGroupAlias":
        return _time_group(args) + ' AS "time"'
    if name == "__unixEpochFilter":
        low = int(context.time_from.timestamp())
        high = int(context.time_to.timestamp())
        return f"{args[0]} >= {low} AND {args[0]} <= {high}"
    if name == "__unixEpochFrom":
        return str(int(context.time_from.timestamp()))
    if name == "__unixEpochTo":
        return str(int(context.time_to.timestamp()))
    raise MacroError(f"unknown macro ${name}")


def expand_macros(sql: str, context: QueryContext) -> str:
    """Expand ``$__macro(args)`` calls as Grafana's PostgreSQL backend does."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        args = [arg.strip() for arg in match.group(2).split(",")]
        # Grafana treats "$__timeGroup(...)," as the aliased form, for pre-5.3 dashboards.
        following = sql[match.end() : match.end() + 1]
        if name == "__timeGroup" and following == ",":
            name = "__timeGroupAlias"
        return _macro(name, args, context)

    return _MACRO.sub(replace, sql)


def expand_sql(sql: str, context: QueryContext) -> str:
    """The SQL Grafana would run: variables first, then macros; nothing left unexpanded."""
    expanded = expand_macros(expand_variables(sql, context), context)
    leftover = re.search(r"\$\{?\w+", expanded)
    if leftover is not None:
        raise MacroError(f"unexpanded {leftover.group(0)!r} in SQL")
    return expanded


def expand_promql(expr: str, context: QueryContext) -> str:
    """The PromQL Grafana would send: variables replaced, nothing left unexpanded."""
    expanded = expand_variables(expr, context)
    leftover = re.search(r"\$\{?\w+", expanded)
    if leftover is not None:
        raise MacroError(f"unexpanded {leftover.group(0)!r} in PromQL")
    return expanded
