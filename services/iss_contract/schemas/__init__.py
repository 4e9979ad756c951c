"""JSON Schemas of the wire contracts, shipped as package data."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def load(name: str) -> dict[str, Any]:
    """Load a schema by file stem, e.g. `load("raw_position")`."""
    text = resources.files(__name__).joinpath(f"{name}.schema.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document
