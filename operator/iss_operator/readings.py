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
