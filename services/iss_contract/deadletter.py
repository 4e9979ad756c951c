"""Dead letters, `iss.deadletter/v1`: a rejected record, the reason, and its original bytes."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from iss_contract.jsonio import dumps
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
        return {
            "schema": SCHEMA,
            "reason": self.reason.value,
            "detail": self.detail,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "key": None if self.key is None else self.key.decode("utf-8", "backslashreplace"),
            "value_b64": None if self.value is None else base64.b64encode(self.value).decode(),
            "rejected_at": format_utc(self.rejected_at),
        }

    def to_bytes(self) -> bytes:
        return dumps(self.to_dict())
