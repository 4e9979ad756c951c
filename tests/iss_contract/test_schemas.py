"""The published JSON Schemas: the generated one is current and says what the validator does."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest

from iss_contract.schemas import GENERATED, load, path_of, render
from iss_contract.schemas.__main__ import main
from iss_contract.validate import parse_raw

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", GENERATED)
def test_the_committed_schema_is_the_one_generated_from_the_contract(name: str) -> None:
    assert path_of(name).read_text("utf-8") == render(name)
    assert main(["--check"]) == 0


def test_a_record_with_another_utc_offset_and_an_unknown_field_passes_both() -> None:
    document = {
        "schema": "iss.position.raw/v1",
        "norad_id": 25544,
        "event_time": "2026-11-21T17:00:00+02:00",
        "latitude": 51.5,
        "longitude": -0.1,
        "source": "wheretheiss",
        "producer_id": "producer-0",
        "sequence": 1,
        "extra": {"from": "a newer producer"},
    }
    now = datetime(2026, 11, 21, 15, 0, 0, tzinfo=UTC)
    jsonschema.validate(document, load("raw_position"))
    assert parse_raw(json.dumps(document).encode(), now=now).event_time == now
