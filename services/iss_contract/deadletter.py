"""Dead letters, `iss.deadletter/v1`: a rejected record, the reason, and its original bytes.

A dead letter always fits the dead-letter topic: it keeps at most
`limits.DEADLETTER_ORIGINAL_BYTES` of the original record (with the record's full size and its
sha256, so the original can be found and compared), at most `limits.DEADLETTER_KEY_BYTES` of the
key, and a detail cut to `limits.DEADLETTER_DETAIL_CHARS` characters.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from iss_contract.jsonio import dumps
from iss_contract.limits import (
    DEADLETTER_DETAIL_CHARS,
    DEADLETTER_KEY_BYTES,
    DEADLETTER_ORIGINAL_BYTES,
)
from iss_contract.timefmt import format_utc

SCHEMA = "iss.deadletter/v1"


class Reason(StrEnum):
    """Why a record was rejected. A closed set: dashboards and alerts key on it."""

    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_SCHEMA = "unknown_schema"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    OUT_OF_RANGE = "out_of_range"
    BAD_TIMESTAMP = "bad_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    OLD_TIMESTAMP = "old_timestamp"
    """`event_time` or `produced_at` before `limits.EARLIEST_EVENT_TIME`."""
    TOO_LARGE = "too_large"
    """The record is longer than `limits.MAX_RECORD_BYTES`; it is not decoded."""
    TOO_COMPLEX = "too_complex"
    """Nesting or container items beyond `limits.MAX_NESTING` / `MAX_CONTAINER_ITEMS`."""
    KEY_MISMATCH = "key_mismatch"
    """The Kafka key is not the payload's `norad_id` in ASCII decimal."""
    ENRICHED_TOO_LARGE = "enriched_too_large"
    """The position is stored, but its enriched message is over the topic's limit."""
    INTERNAL_ERROR = "internal_error"
    """Handling the record raised an exception nothing expected; the detail names its class."""


def short(text: str, limit: int = DEADLETTER_DETAIL_CHARS) -> str:
    """`text` cut to `limit` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    reason: Reason
    detail: str
    topic: str
    partition: int | None
    offset: int | None
    key: bytes | None
    value: bytes | None
    rejected_at: datetime

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        key = self.key
        return {
            "schema": SCHEMA,
            "reason": self.reason.value,
            "detail": short(self.detail),
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "key": None
            if key is None
            else key[:DEADLETTER_KEY_BYTES].decode("utf-8", "backslashreplace"),
            "value_b64": None
            if value is None
            else base64.b64encode(value[:DEADLETTER_ORIGINAL_BYTES]).decode(),
            "value_bytes": None if value is None else len(value),
            "value_truncated": value is not None and len(value) > DEADLETTER_ORIGINAL_BYTES,
            "value_sha256": None if value is None else hashlib.sha256(value).hexdigest(),
            "rejected_at": format_utc(self.rejected_at),
        }

    def to_bytes(self) -> bytes:
        return dumps(self.to_dict())

    def message(self) -> tuple[bytes | None, bytes]:
        """The dead-letter topic's (key, value): the original key, cut as in `to_dict`, so that
        a huge key cannot make the letter too large for the topic."""
        key = self.key
        return (None if key is None else key[:DEADLETTER_KEY_BYTES], self.to_bytes())
