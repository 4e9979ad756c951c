"""What a Prometheus query told us: a number, or why there is none."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class UnknownReason(StrEnum):
    """Why a query produced no usable number."""

    UNREACHABLE = "PrometheusUnreachable"
    TIMEOUT = "PrometheusTimeout"
    BAD_RESPONSE = "PrometheusBadResponse"
    QUERY_ERROR = "QueryError"
    NO_DATA = "NoData"
    NOT_A_NUMBER = "NotANumber"
    IMPLAUSIBLE = "ImplausibleValue"


@dataclass(frozen=True)
class Observation:
    """A query answered with a finite number."""

    value: float


@dataclass(frozen=True)
class Unknown:
    """A query that produced no usable number, with the reason."""

    reason: UnknownReason
    detail: str


Reading = Observation | Unknown


def bounded(reading: Reading, low: float, high: float, what: str) -> Reading:
    """The reading if its number can be real; otherwise Unknown, so nothing acts on it."""
    if isinstance(reading, Observation) and not low <= reading.value <= high:
        return Unknown(
            UnknownReason.IMPLAUSIBLE,
            f"{what} {reading.value:g} is outside [{low:g}, {high:g}]",
        )
    return reading
