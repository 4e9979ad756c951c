"""The per-satellite state machine: speeds, duplicates, out-of-order input and gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from iss_contract.enriched import EnrichedPosition
from iss_contract.raw import RawPosition
from iss_enricher.enrich import EnrichRules, Track, advance

pytestmark = pytest.mark.unit

T0 = datetime(2026, 9, 16, 12, 0, tzinfo=UTC)
NOW = datetime(2026, 9, 16, 12, 5, tzinfo=UTC)
RULES = EnrichRules(max_gap_seconds=30.0, duplicate_memory=8)
ONE_DEGREE_KM = 111.19492664455873


def pos(
    seconds: float,
    lat: float,
    lon: float,
    *,
    altitude: float | None = 420.0,
    velocity: float | None = None,
) -> RawPosition:
    return RawPosition(
        norad_id=25544,
        event_time=T0 + timedelta(seconds=seconds),
        latitude=lat,
        longitude=lon,
        source="sgp4",
        producer_id="test",
        sequence=int(seconds),
        altitude_km=altitude,
        velocity_kmh=velocity,
    )


def run(*positions: RawPosition) -> tuple[Track | None, list[EnrichedPosition | None]]:
    track: Track | None = None
    out: list[EnrichedPosition | None] = []
    for p in positions:
        track, enriched = advance(track, p, RULES, NOW)
        out.append(enriched)
    return track, out


def present(enriched: EnrichedPosition | None) -> EnrichedPosition:
    assert enriched is not None
    return enriched


def test_first_position_of_a_satellite_has_no_speed_or_heading() -> None:
    _, (first,) = run(pos(0, 0.0, 0.0))
    assert first is not None
    assert present(first).ground_speed_kmh is None
    assert present(first).heading_deg is None


def test_ground_speed_is_distance_over_time_between_consecutive_positions() -> None:
    _, out = run(pos(0, 0.0, 10.0), pos(10, 0.0, 10.5))
    second = out[1]
    # Half a degree of equator in 10 s.
    assert present(second).ground_speed_kmh == pytest.approx(ONE_DEGREE_KM / 2 / 10 * 3600)
    assert present(second).heading_deg == pytest.approx(90.0)


def test_crossing_the_antimeridian_gives_a_normal_speed_and_an_eastward_heading() -> None:
    _, out = run(pos(0, 0.0, 179.9), pos(10, 0.0, -179.9))
    crossing = out[1]
    assert present(crossing).ground_speed_kmh == pytest.approx(0.2 * ONE_DEGREE_KM * 360)
    assert present(crossing).heading_deg == pytest.approx(90.0)


def test_crossing_a_pole_gives_the_arc_through_the_pole() -> None:
    _, out = run(pos(0, 89.9, 0.0), pos(10, 89.9, 180.0))
    assert present(out[1]).ground_speed_kmh == pytest.approx(0.2 * ONE_DEGREE_KM * 360)


def test_a_duplicate_event_time_is_dropped() -> None:
    _, out = run(pos(0, 0.0, 0.0), pos(1, 0.0, 0.06), pos(1, 0.0, 0.06), pos(0, 0.0, 0.0))
    assert out[2] is None
    assert out[3] is None


def test_an_out_of_order_position_gets_no_speed_and_does_not_move_the_track() -> None:
    track, out = run(pos(0, 0.0, 0.0), pos(2, 0.0, 0.12), pos(1, 0.0, 0.06), pos(3, 0.0, 0.18))
    late = out[2]
    assert late is not None
    assert present(late).ground_speed_kmh is None
    after = out[3]
    # Speed of the next in-order position is measured from t=2, not from the late t=1.
    assert present(after).ground_speed_kmh == pytest.approx(0.06 * ONE_DEGREE_KM * 3600)
    assert track is not None
    assert track.last_time == (T0 + timedelta(seconds=3)).timestamp()


def test_a_gap_longer_than_the_limit_resets_the_speed_instead_of_averaging() -> None:
    _, out = run(pos(0, 0.0, 0.0), pos(31, 0.0, 2.0), pos(32, 0.0, 2.06))
    assert present(out[1]).ground_speed_kmh is None
    assert present(out[2]).ground_speed_kmh == pytest.approx(0.06 * ONE_DEGREE_KM * 3600)


def test_duplicate_memory_is_bounded() -> None:
    track, _ = run(*(pos(i, 0.0, 0.06 * i) for i in range(50)))
    assert track is not None
    assert len(track.recent) == RULES.duplicate_memory


def test_orbital_speed_comes_from_the_source_when_given() -> None:
    _, (only,) = run(pos(0, 0.0, 0.0, velocity=27600.5))
    assert present(only).orbital_speed_kmh == 27600.5


def test_orbital_speed_falls_back_to_vis_viva_from_altitude() -> None:
    _, (only,) = run(pos(0, 0.0, 0.0, altitude=420.0))
    assert present(only).orbital_speed_kmh == pytest.approx(27566.0, abs=5.0)


def test_without_altitude_the_altitude_dependent_fields_are_null() -> None:
    _, (only,) = run(pos(0, 10.0, 20.0, altitude=None))
    assert only is not None
    assert present(only).orbital_speed_kmh is None
    assert present(only).satellite_sunlit is None
    assert present(only).footprint_radius_km is None
    assert isinstance(present(only).ground_daylight, bool)


def test_enriched_at_is_the_processing_time() -> None:
    _, (only,) = run(pos(0, 0.0, 0.0))
    assert present(only).enriched_at == NOW


def withheld(reason: str) -> float:
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value(
        "iss_enricher_ground_speed_withheld_total", {"reason": reason}
    )
    return value or 0.0


def test_two_positions_a_millisecond_apart_give_a_null_speed_counted_as_a_short_step() -> None:
    before = withheld("short_step")
    # Timestamp jitter: positions really a second apart, stamped 1 ms apart (24,759,210 km/h).
    _, out = run(pos(0, 0.0, 0.0), pos(0.001, 0.0, 0.0625))
    assert present(out[1]).ground_speed_kmh is None
    assert present(out[1]).heading_deg is None
    assert withheld("short_step") == before + 1


def test_an_impossible_ground_speed_is_null_and_counted_as_implausible() -> None:
    before = withheld("implausible")
    _, out = run(pos(0, 0.0, 0.0), pos(1, 0.0, 1.0))  # 400,000 km/h
    assert present(out[1]).ground_speed_kmh is None
    assert present(out[1]).heading_deg is None
    assert withheld("implausible") == before + 1


def test_a_speed_just_under_the_bound_is_kept() -> None:
    _, out = run(pos(0, 0.0, 0.0), pos(10, 0.0, 0.8))  # 32,026 km/h
    assert present(out[1]).ground_speed_kmh == pytest.approx(0.8 * ONE_DEGREE_KM * 360)


def test_a_zero_length_step_has_a_speed_of_zero_and_no_heading() -> None:
    _, out = run(pos(0, 10.0, 20.0), pos(1, 10.0, 20.0))
    assert present(out[1]).ground_speed_kmh == 0.0
    assert present(out[1]).heading_deg is None


def test_the_track_moves_on_after_a_withheld_speed() -> None:
    _, out = run(pos(0, 0.0, 0.0), pos(0.001, 0.0, 0.0625), pos(10.001, 0.0, 0.6875))
    assert present(out[2]).ground_speed_kmh == pytest.approx(0.625 * ONE_DEGREE_KM * 360, rel=1e-3)
