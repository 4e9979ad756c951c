"""Property-based: nothing a record holds raises out of validation or enrichment.

Fixed examples (derandomised, no example database) so the suite is repeatable; a few hundred
examples each, a few seconds in all.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iss_contract.validate import Rejected, parse_raw
from iss_enricher.enrich import EnrichRules, advance
from iss_enricher.positions_out import encode_enriched
from tests.iss_contract.fixtures import raw_document

pytestmark = pytest.mark.unit

NOW = datetime(2026, 9, 16, 12, 0, 30, tzinfo=UTC)
SETTINGS = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children),
    max_leaves=20,
)
FIELDS = list(raw_document())


def outcome(value: bytes, key: bytes | None = None) -> None:
    """Validate, and enrich and encode what passes; only `Rejected` may come out."""
    try:
        position = parse_raw(value, key=key, now=NOW)
    except Rejected:
        return
    track, first = advance(None, position, EnrichRules(), NOW)
    _, second = advance(track, position, EnrichRules(), NOW)
    assert first is not None
    assert second is None  # the same event time again is a duplicate
    encode_enriched([first])


@SETTINGS
@given(st.binary(max_size=2_000))
def test_arbitrary_bytes_are_a_verdict_never_an_exception(value: bytes) -> None:
    outcome(value)


@SETTINGS
@given(json_values)
def test_arbitrary_json_is_a_verdict_never_an_exception(document: Any) -> None:
    outcome(json.dumps(document).encode())


@SETTINGS
@given(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4),
    st.sets(st.sampled_from(FIELDS), max_size=2),
    st.one_of(st.none(), st.binary(max_size=12), st.integers(0, 10**6).map(lambda n: b"%d" % n)),
)
def test_a_record_with_arbitrary_fields_replaced_or_removed_is_a_verdict(
    replaced: dict[str, Any], removed: set[str], key: bytes | None
) -> None:
    document = {**raw_document(), **replaced}
    for field in removed:
        document.pop(field, None)
    outcome(json.dumps(document).encode(), key)


@SETTINGS
@given(
    st.floats(-90, 90),
    st.floats(-180, 180),
    st.one_of(st.none(), st.floats(1e-9, 1e6)),
    st.floats(946_684_800, 4_102_444_800),
)
def test_any_valid_position_enriches_and_encodes(
    latitude: float, longitude: float, altitude: float | None, moment: float
) -> None:
    document = raw_document(
        latitude=latitude,
        longitude=longitude,
        altitude_km=altitude,
        event_time=datetime.fromtimestamp(moment, UTC).isoformat(),
        produced_at=None,
    )
    position = parse_raw(json.dumps(document).encode(), now=datetime(2100, 1, 1, tzinfo=UTC))
    track, _ = advance(None, position, EnrichRules(), NOW)
    _, later = advance(track, position, EnrichRules(), NOW)
    assert later is None
