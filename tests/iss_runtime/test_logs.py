"""Log formats."""

from __future__ import annotations

import json
import logging

import pytest

from iss_runtime.logs import JsonFormatter

pytestmark = pytest.mark.unit


def test_json_logs_are_one_object_per_line_with_level_logger_and_message() -> None:
    record = logging.LogRecord(
        "iss_enricher.flow", logging.WARNING, __file__, 1, "lag %d", (42,), None
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "warning"
    assert entry["logger"] == "iss_enricher.flow"
    assert entry["message"] == "lag 42"
    assert entry["time"].endswith("+00:00")


def test_extra_fields_travel_with_the_json_log_line() -> None:
    record = logging.LogRecord("iss_producer", logging.INFO, __file__, 1, "fetched", (), None)
    record.source = "sgp4"
    entry = json.loads(JsonFormatter().format(record))
    assert entry["source"] == "sgp4"
