"""Fast JSON on the wire (orjson), with the standard library as the fallback for edge cases.

orjson refuses a few inputs the standard library accepts (NaN and Infinity literals, UTF-16/32
documents, lone surrogates); those take the slower path, so the contract's verdicts do not
depend on which decoder ran. One difference remains on purpose: orjson reads an integer beyond
64 bits as a float, so such a NORAD id or sequence is rejected as `wrong_type` rather than
accepted and then refused by the database's integer column.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(value: bytes) -> Any:
    """Decode one JSON document; raise ValueError (or UnicodeDecodeError) when it is not JSON."""
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return json.loads(value)


def dumps(document: dict[str, Any]) -> bytes:
    """Encode compactly as UTF-8."""
    try:
        return orjson.dumps(document)
    except TypeError:  # orjson.JSONEncodeError: e.g. a string with a lone surrogate
        return json.dumps(document, separators=(",", ":")).encode("ascii")
