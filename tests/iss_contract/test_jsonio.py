"""JSON on the wire: compact UTF-8 out, the standard library's verdicts in."""

from __future__ import annotations

import json

import pytest

from iss_contract.jsonio import dumps, loads

pytestmark = pytest.mark.unit


def test_documents_round_trip_compactly() -> None:
    document = {"a": 1, "b": [1.5, None, True], "c": "Ü"}
    encoded = dumps(document)
    assert b" " not in encoded
    assert loads(encoded) == document


def test_non_finite_literals_are_still_read_as_numbers() -> None:
    assert loads(b'{"x": NaN, "y": -Infinity}')["y"] == float("-inf")


def test_integers_beyond_64_bits_are_read_exactly() -> None:
    assert loads(b'{"x": 123456789012345678901234567890}')["x"] == 123456789012345678901234567890


def test_text_that_is_not_json_is_a_value_error() -> None:
    for bad in (b"{", b"\xff\xfe{", b"nope"):
        with pytest.raises(ValueError, match=r"."):
            loads(bad)


def test_text_is_encoded_as_utf8_not_escaped() -> None:
    assert dumps({"name": "Ü"}) == '{"name":"Ü"}'.encode()


def test_a_string_with_a_lone_surrogate_is_still_encoded() -> None:
    document = json.loads('{"name": "\\ud800"}')
    assert json.loads(dumps(document)) == document
