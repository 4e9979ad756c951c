"""JSON on the wire: msgspec to encode, the standard library to read records of unknown shape.

Well-formed raw records never come here: `iss_contract.validate` decodes them straight into a
typed struct. This module reads the rest (to find out what is wrong with them) and encodes the
enricher's outputs.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

_encode = msgspec.json.Encoder().encode


def loads(value: bytes) -> Any:
    """Decode one JSON document; raise ValueError (or UnicodeDecodeError) when it is not JSON."""
    return json.loads(value)


def dumps(document: dict[str, Any]) -> bytes:
    """Encode compactly as UTF-8."""
    try:
        return _encode(document)
    except UnicodeEncodeError:  # a string with a lone surrogate: escape it as json does
        return json.dumps(document, separators=(",", ":")).encode("ascii")
