from datetime import UTC, datetime

import pytest

from iss_producer.errors import Rejected, RejectReason
from iss_producer.sources import wheretheiss
from iss_producer.sources.fix import Fix
from tests.iss_producer.fixtures import wheretheiss_body

NOW = datetime(2026, 11, 21, 15, 0, 0, tzinfo=UTC)


def parse(body: bytes) -> Fix:
    return wheretheiss.parse(body, now=NOW, norad_id=25544, max_future_s=5.0, max_age_s=120.0)


@pytest.mark.unit
def test_valid_answer_becomes_a_fix_with_every_field() -> None:
    fix = parse(wheretheiss_body(NOW.timestamp() - 1))
    assert fix.event_time == datetime(2026, 11, 21, 14, 59, 59, tzinfo=UTC)
    assert (fix.latitude, fix.longitude) == (12.5, -45.25)
    assert (fix.altitude_km, fix.velocity_kmh, fix.footprint_km) == (418.2, 27580.1, 4480.0)
    assert fix.visibility == "daylight"
    assert fix.source == "wheretheiss"
    assert fix.norad_id == 25544


def _replace(old: str, new: str) -> bytes:
    return wheretheiss_body(NOW.timestamp()).replace(old.encode(), new.encode())


BAD_BODIES = [
    pytest.param(b"", RejectReason.EMPTY_BODY, id="empty"),
    pytest.param(b"   \n", RejectReason.EMPTY_BODY, id="whitespace"),
    pytest.param(
        b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
        RejectReason.HTML_BODY,
        id="html",
    ),
    pytest.param(b'{"latitude": 1.0, "longitude"', RejectReason.INVALID_JSON, id="truncated-json"),
    pytest.param(b"[1, 2, 3]", RejectReason.NOT_AN_OBJECT, id="array"),
    pytest.param(_replace('"latitude":12.5,', ""), RejectReason.MISSING_FIELD, id="no-latitude"),
    pytest.param(
        _replace('"longitude":-45.25,', ""), RejectReason.MISSING_FIELD, id="no-longitude"
    ),
    pytest.param(
        _replace('"timestamp":', '"time":'), RejectReason.MISSING_FIELD, id="no-timestamp"
    ),
    pytest.param(_replace("12.5", '"north"'), RejectReason.WRONG_TYPE, id="latitude-text"),
    pytest.param(_replace("12.5", "true"), RejectReason.WRONG_TYPE, id="latitude-boolean"),
    pytest.param(_replace("12.5", "NaN"), RejectReason.NOT_FINITE, id="latitude-nan"),
    pytest.param(_replace("-45.25", "Infinity"), RejectReason.NOT_FINITE, id="longitude-inf"),
    pytest.param(_replace("12.5", "90.5"), RejectReason.OUT_OF_RANGE, id="latitude-above-90"),
    pytest.param(_replace("12.5", "-91"), RejectReason.OUT_OF_RANGE, id="latitude-below-90"),
    pytest.param(_replace("-45.25", "180.01"), RejectReason.OUT_OF_RANGE, id="longitude-above-180"),
    pytest.param(_replace("-45.25", "-200"), RejectReason.OUT_OF_RANGE, id="longitude-below-180"),
    pytest.param(_replace("418.2", "-5"), RejectReason.OUT_OF_RANGE, id="negative-altitude"),
    pytest.param(_replace("418.2", '"high"'), RejectReason.WRONG_TYPE, id="altitude-text"),
    pytest.param(
        wheretheiss_body(NOW.timestamp() + 3600), RejectReason.FUTURE_TIMESTAMP, id="future"
    ),
    pytest.param(
        wheretheiss_body(NOW.timestamp() - 86400), RejectReason.STALE_TIMESTAMP, id="far-past"
    ),
    pytest.param(
        _replace('"timestamp":', '"timestamp":"x",'), RejectReason.INVALID_JSON, id="broken"
    ),
    pytest.param(
        _replace(str(int(NOW.timestamp())), '"soon"'), RejectReason.WRONG_TYPE, id="timestamp-text"
    ),
    pytest.param(_replace(str(int(NOW.timestamp())), "-1"), RejectReason.OUT_OF_RANGE, id="ts-neg"),
    pytest.param(_replace('"id":25544', '"id":20580'), RejectReason.OUT_OF_RANGE, id="other-sat"),
]


@pytest.mark.unit
@pytest.mark.parametrize(("body", "reason"), BAD_BODIES)
def test_bad_answer_is_rejected_with_its_reason(body: bytes, reason: RejectReason) -> None:
    with pytest.raises(Rejected) as caught:
        parse(body)
    assert caught.value.reason is reason
    assert caught.value.detail


@pytest.mark.unit
def test_timestamp_a_few_seconds_ahead_is_tolerated() -> None:
    fix = parse(wheretheiss_body(NOW.timestamp() + 3))
    assert fix.event_time > NOW


@pytest.mark.unit
def test_unknown_visibility_becomes_null_rather_than_a_new_value() -> None:
    fix = parse(_replace('"daylight"', '"visible"'))
    assert fix.visibility is None


@pytest.mark.unit
def test_an_answer_in_miles_is_converted_to_kilometres() -> None:
    miles = _replace('"units":"kilometers"', '"units":"miles"')
    fix = parse(
        miles.replace(b'"altitude":418.2', b'"altitude":259.9')
        .replace(b'"velocity":27580.1', b'"velocity":17137.5')
        .replace(b'"footprint":4480.0', b'"footprint":2783.7')
    )
    assert fix.altitude_km == pytest.approx(418.26, abs=0.01)
    assert fix.velocity_kmh == pytest.approx(27580.1, abs=0.1)
    assert fix.footprint_km == pytest.approx(4479.9, abs=0.1)


@pytest.mark.unit
@pytest.mark.parametrize("units", ['"furlongs"', "3", "null"])
def test_an_answer_in_unknown_units_is_rejected_not_guessed(units: str) -> None:
    with pytest.raises(Rejected) as rejected:
        parse(_replace('"units":"kilometers"', f'"units":{units}'))
    assert rejected.value.reason is RejectReason.UNKNOWN_UNITS


@pytest.mark.unit
def test_an_answer_without_units_is_in_kilometres() -> None:
    fix = parse(_replace(',"units":"kilometers"', ""))
    assert fix.altitude_km == 418.2


@pytest.mark.unit
@pytest.mark.parametrize("altitude", ["0", "-10", "1000001"])
def test_altitudes_outside_the_contract_bounds_are_rejected(altitude: str) -> None:
    with pytest.raises(Rejected) as rejected:
        parse(_replace('"altitude":418.2', f'"altitude":{altitude}'))
    assert rejected.value.reason is RejectReason.OUT_OF_RANGE
