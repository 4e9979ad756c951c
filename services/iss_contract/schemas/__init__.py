"""JSON Schemas of the wire contracts, shipped as package data.

`raw_position.schema.json` is generated from the validator's typed struct, so the published
contract and the one the enricher enforces are the same; `make check-generated` fails when the
committed file is stale. The enriched and dead-letter schemas are written by hand, and tests
validate real messages against them.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from iss_contract.raw import SCHEMA
from iss_contract.validate import WellFormedRaw

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
GENERATED = ("raw_position",)
"""The schemas derived from a struct (the others are written by hand)."""


def load(name: str) -> dict[str, Any]:
    """Load a schema by file stem, e.g. `load("raw_position")`."""
    text = resources.files(__name__).joinpath(f"{name}.schema.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def path_of(name: str) -> Path:
    return Path(__file__).with_name(f"{name}.schema.json")


def raw_position() -> dict[str, Any]:
    """`iss.position.raw/v1` as JSON Schema, from the struct the enricher decodes records into."""
    generated = msgspec.json.schema(WellFormedRaw)
    body: dict[str, Any] = generated["$defs"][generated["$ref"].rsplit("/", 1)[1]]
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": "https://iss-tracker.io/schemas/raw_position.v1.json",
        "title": SCHEMA,
        "description": "One position of one satellite, as published by the producer to the raw "
        "positions topic. Unknown fields are ignored.",
        "type": "object",
        "required": body["required"],
        "properties": body["properties"],
    }


def render(name: str) -> str:
    """The file text of a generated schema."""
    builders = {"raw_position": raw_position}
    return json.dumps(builders[name](), indent=2) + "\n"
