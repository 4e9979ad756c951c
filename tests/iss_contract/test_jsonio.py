"""JSON on the wire: the fast codec and its standard-library fallback agree on every verdict."""

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


def test_integers_beyond_64_bits_are_read_as_floats() -> None:
    assert loads(b'{"x": 123456789012345678901234567890}')["x"] == pytest.approx(1.2345678901e29)
    assert loads(b'{"x": 9223372036854775807}')["x"] == 9223372036854775807


def test_text_that_is_not_json_is_a_value_error() -> None:
    for bad in (b"{", b"\xff\xfe{", b"nope"):
        with pytest.raises(ValueError, match=r"."):
            loads(bad)


def test_a_string_with_a_lone_surrogate_is_still_encoded() -> None:
    document = json.loads('{"name": "\\ud800"}')
    assert json.loads(dumps(document)) == document
