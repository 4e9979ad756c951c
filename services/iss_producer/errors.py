"""Errors of the producer package: one base class, kinds named by what went wrong."""

from __future__ import annotations

from enum import StrEnum


class ProducerError(Exception):
    """Base class of every error raised by iss_producer."""


class RejectReason(StrEnum):
    """Why a source answer was not turned into a position (label of iss_producer_rejected_total)."""

    EMPTY_BODY = "empty_body"
    HTML_BODY = "html_body"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    API_ERROR = "api_error"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    NOT_FINITE = "not_finite"
    OUT_OF_RANGE = "out_of_range"
    FUTURE_TIMESTAMP = "future_timestamp"
    STALE_TIMESTAMP = "stale_timestamp"
    REPEATED_TIMESTAMP = "repeated_timestamp"
    PROPAGATION_ERROR = "propagation_error"
    TOO_LARGE = "too_large"
    UNKNOWN_UNITS = "unknown_units"


class Rejected(ProducerError):  # noqa: N818  # a verdict on the input, not a fault
    """A source answered, but the answer is not a valid position."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
