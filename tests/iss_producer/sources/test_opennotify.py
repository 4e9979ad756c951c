from datetime import UTC, datetime

import pytest

from iss_producer.errors import Rejected, RejectReason
from iss_producer.sources import opennotify
from iss_producer.sources.fix import Fix
from tests.iss_producer.fixtures import opennotify_body

NOW = datetime(2026, 11, 21, 15, 0, 0, tzinfo=UTC)
TS = int(NOW.timestamp())


def parse(body: bytes) -> Fix:
    return opennotify.parse(body, now=NOW, norad_id=25544, max_future_s=5.0, max_age_s=120.0)


@pytest.mark.unit
def test_string_coordinates_become_numbers() -> None:
    fix = parse(opennotify_body(TS - 2))
    assert (fix.latitude, fix.longitude) == (-19.783929, -72.29)
    assert fix.event_time == datetime(2026, 11, 21, 14, 59, 58, tzinfo=UTC)
    assert fix.source == "open-notify"
    assert fix.altitude_km is None
    assert fix.norad_id == 25544


def _body(text: str) -> bytes:
    return text.replace("TS", str(TS)).encode()


BAD_BODIES = [
    pytest.param(b"", RejectReason.EMPTY_BODY, id="empty"),
    pytest.param(
        b"<html><h1>503 Service Unavailable</h1></html>", RejectReason.HTML_BODY, id="html"
    ),
    pytest.param(b"success", RejectReason.INVALID_JSON, id="not-json"),
    pytest.param(b'"success"', RejectReason.NOT_AN_OBJECT, id="json-string"),
    pytest.param(
        _body('{"message": "failure", "timestamp": TS}'), RejectReason.API_ERROR, id="failure"
    ),
    pytest.param(
        _body('{"message": "success", "timestamp": TS}'), RejectReason.MISSING_FIELD, id="no-pos"
    ),
    pytest.param(
        _body('{"message": "success", "timestamp": TS, "iss_position": "12,4"}'),
        RejectReason.WRONG_TYPE,
        id="position-not-object",
    ),
    pytest.param(
        _body('{"timestamp": TS, "iss_position": {"longitude": "1"}}'),
        RejectReason.MISSING_FIELD,
        id="no-latitude",
    ),
    pytest.param(
        _body('{"iss_position": {"latitude": "1", "longitude": "1"}}'),
        RejectReason.MISSING_FIELD,
        id="no-timestamp",
    ),
    pytest.param(opennotify_body(TS, latitude="north"), RejectReason.WRONG_TYPE, id="lat-text"),
    pytest.param(opennotify_body(TS, longitude=""), RejectReason.WRONG_TYPE, id="lon-empty"),
    pytest.param(opennotify_body(TS, latitude="nan"), RejectReason.NOT_FINITE, id="lat-nan"),
    pytest.param(opennotify_body(TS, latitude="95.1"), RejectReason.OUT_OF_RANGE, id="lat-95"),
    pytest.param(opennotify_body(TS, longitude="-180.5"), RejectReason.OUT_OF_RANGE, id="lon-180"),
    pytest.param(opennotify_body(TS + 600), RejectReason.FUTURE_TIMESTAMP, id="future"),
    pytest.param(opennotify_body(TS - 7 * 86400), RejectReason.STALE_TIMESTAMP, id="far-past"),
]


@pytest.mark.unit
@pytest.mark.parametrize(("body", "reason"), BAD_BODIES)
def test_bad_answer_is_rejected_with_its_reason(body: bytes, reason: RejectReason) -> None:
    with pytest.raises(Rejected) as caught:
        parse(body)
    assert caught.value.reason is reason


@pytest.mark.unit
def test_numeric_timestamp_given_as_string_is_accepted() -> None:
    body = _body(
        '{"message": "success", "timestamp": "TS", '
        '"iss_position": {"latitude": "1", "longitude": "2"}}'
    )
    assert parse(body).event_time == NOW
