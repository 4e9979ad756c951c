"""No record can raise out of validation, and every dead letter fits the topic."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import time
from datetime import UTC, datetime

import pytest

from iss_contract.deadletter import DeadLetter, Reason
from iss_contract.limits import (
    DEADLETTER_ORIGINAL_BYTES,
    MAX_RECORD_BYTES,
    MAX_VALUE_BYTES,
)
from iss_contract.validate import Rejected, check_structure, parse_raw
from tests.iss_contract.fixtures import STORED, Pill, poison_pills

pytestmark = pytest.mark.unit

NOW = datetime(2026, 9, 16, 12, 0, 30, tzinfo=UTC)
PILLS = poison_pills()


def verdict(pill: Pill) -> Reason | str:
    try:
        parse_raw(pill.value, key=pill.key, now=NOW)
    except Rejected as rejected:
        return rejected.reason
    return STORED


@pytest.mark.parametrize("pill", PILLS, ids=[p.name for p in PILLS])
def test_each_poison_pill_gets_the_verdict_the_contract_promises(pill: Pill) -> None:
    assert verdict(pill) == pill.outcome


@pytest.mark.parametrize("pill", PILLS, ids=[p.name for p in PILLS])
def test_each_dead_letter_fits_the_topic_and_never_repeats_the_value(pill: Pill) -> None:
    try:
        parse_raw(pill.value, key=pill.key, now=NOW)
    except Rejected as rejected:
        letter = DeadLetter(
            rejected.reason, rejected.detail, "raw", 0, 7, pill.key, pill.value, NOW
        )
    else:
        return
    key, encoded = letter.message()
    assert len(encoded) <= MAX_VALUE_BYTES
    assert len(key or b"") + len(encoded) <= MAX_VALUE_BYTES
    document = json.loads(encoded)
    assert len(document["detail"]) <= 300
    assert document["value_bytes"] == len(pill.value)
    assert document["value_sha256"] == hashlib.sha256(pill.value).hexdigest()
    kept = base64.b64decode(document["value_b64"])
    assert kept == pill.value[:DEADLETTER_ORIGINAL_BYTES]
    assert document["value_truncated"] is (len(pill.value) > DEADLETTER_ORIGINAL_BYTES)


def test_validation_does_not_depend_on_the_recursion_limit() -> None:
    deep = b"[" * 60 + b"]" * 60
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(80)
    try:
        with pytest.raises(Rejected) as rejected:
            parse_raw(deep, now=NOW)
    finally:
        sys.setrecursionlimit(limit)
    assert rejected.value.reason is Reason.TOO_COMPLEX


def test_brackets_and_commas_inside_strings_do_not_count_towards_complexity() -> None:
    check_structure(json.dumps({"name": "[[[[[[[[[[," * 1000}).encode())


def test_a_record_of_exactly_the_size_limit_is_read_and_one_byte_more_is_not() -> None:
    padding = b" " * (MAX_RECORD_BYTES - 2)
    with pytest.raises(Rejected) as at_limit:
        parse_raw(b"[" + padding + b"]", now=NOW)
    assert at_limit.value.reason is Reason.NOT_AN_OBJECT
    with pytest.raises(Rejected) as over:
        parse_raw(b"[" + padding + b" ]", now=NOW)
    assert over.value.reason is Reason.TOO_LARGE


def test_a_record_without_a_key_is_accepted_and_a_matching_key_is_too() -> None:
    (stored,) = [p for p in PILLS if p.outcome == STORED]
    assert parse_raw(stored.value, key=None, now=NOW).norad_id == 25544
    assert parse_raw(stored.value, key=b"25544", now=NOW).norad_id == 25544


@pytest.mark.parametrize(
    "value",
    [
        b'["' + b'\\"' * 32_000,  # one string that never ends, full of escaped quotes
        b"[" + b'"' * 65_000,
        b'["' + b"\\" * 32_000,
        b'{"a":[' + b'"x",' * 13_000 + b"1]}",
    ],
    ids=["escaped quotes", "bare quotes", "backslashes", "many strings"],
)
def test_the_structure_scan_is_linear_whatever_the_quotes(value: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(Rejected):
        parse_raw(value, now=NOW)
    assert time.perf_counter() - started < 0.5
