import json
from datetime import UTC, datetime

import numpy as np
import pytest

from iss_contract.raw import RawPosition
from iss_physics.tle import Elements, read_tle_file, with_checksum
from iss_producer.constellation import Constellation, SnapshotEncoder
from iss_producer.errors import Rejected, RejectReason
from iss_producer.settings import DEFAULT_TLE_FILE
from iss_producer.sources.sgp4_source import propagate

WHEN = datetime(2026, 9, 17, 3, 0, 0, tzinfo=UTC)


def variant(base: Elements, norad_id: int, mean_anomaly: float) -> Elements:
    line1 = with_checksum(f"1 {norad_id:05d}" + base.line1[7:])
    line2 = with_checksum(
        f"2 {norad_id:05d}" + base.line2[7:43] + f"{mean_anomaly:8.4f}" + base.line2[51:]
    )
    return Elements(line1, line2, f"SAT {norad_id}")


@pytest.mark.unit
def test_vectorised_positions_equal_one_by_one_propagation() -> None:
    iss = read_tle_file(DEFAULT_TLE_FILE)[0]
    records = [iss] + [variant(iss, 40000 + i, 30.0 * i) for i in range(1, 12)]
    snapshot = Constellation(records).propagate(WHEN)
    assert snapshot.ok.all()
    for i, record in enumerate(records):
        single = propagate(record, WHEN)
        assert snapshot.latitude[i] == pytest.approx(single.latitude, abs=1e-9)
        assert snapshot.longitude[i] == pytest.approx(single.longitude, abs=1e-9)
        assert snapshot.altitude_km[i] == pytest.approx(single.altitude_km, abs=1e-9)
        assert snapshot.velocity_kmh[i] == pytest.approx(single.velocity_kmh, abs=1e-6)
    # Different mean anomalies really are different places.
    assert len({round(float(lat), 3) for lat in snapshot.latitude}) > 6


@pytest.mark.unit
def test_satellite_that_fails_to_propagate_is_flagged_and_the_others_are_not() -> None:
    iss = read_tle_file(DEFAULT_TLE_FILE)[0]
    # 17 revolutions a day is below the surface: SGP4 reports an error a year later.
    sunk = with_checksum(iss.line2[:52] + "17.00000000" + iss.line2[63:])
    snapshot = Constellation([iss, Elements(iss.line1, sunk, "SUNK")]).propagate(
        datetime(2027, 9, 1, tzinfo=UTC)
    )
    assert snapshot.ok.tolist() == [True, False]


def _catalogue() -> list[Elements]:
    iss = read_tle_file(DEFAULT_TLE_FILE)[0]
    names = ['QUOTE "Q"', "PERCENT %d", "ÜMLAUT", None]
    records = [iss] + [variant(iss, 40000 + i, 40.0 * i) for i in range(1, 5)]
    return [records[0]] + [
        Elements(r.line1, r.line2, name) for name, r in zip(names, records[1:], strict=True)
    ]


@pytest.mark.unit
def test_encoded_messages_are_byte_identical_to_the_contract_encoding() -> None:
    constellation = Constellation(_catalogue())
    encoder = SnapshotEncoder(constellation, 'producer "%s"')
    snapshot = constellation.propagate(WHEN)
    produced_at = datetime(2026, 9, 17, 3, 0, 0, 120000, tzinfo=UTC)
    encoded = encoder.encode(snapshot, 100, produced_at)
    assert len(encoded) == len(constellation)
    for n, (key, value) in enumerate(encoded):
        expected = RawPosition(
            norad_id=constellation.norad_ids[n],
            name=constellation.names[n],
            event_time=WHEN,
            latitude=float(snapshot.latitude[n]),
            longitude=float(snapshot.longitude[n]),
            altitude_km=float(snapshot.altitude_km[n]),
            velocity_kmh=float(snapshot.velocity_kmh[n]),
            source="sgp4",
            producer_id='producer "%s"',
            sequence=100 + n,
            produced_at=produced_at,
        )
        assert key == expected.key
        assert value == expected.to_bytes()
    assert encoder.fallback_ticks == 0


@pytest.mark.unit
def test_failed_satellites_are_skipped_and_sequences_stay_contiguous() -> None:
    constellation = Constellation(_catalogue())
    snapshot = constellation.propagate(WHEN)
    snapshot.ok[1] = False
    encoded = SnapshotEncoder(constellation, "p").encode(snapshot, 0, WHEN)
    assert [key for key, _ in encoded] == [b"25544", b"40002", b"40003", b"40004"]
    assert [json.loads(value)["sequence"] for _, value in encoded] == [0, 1, 2, 3]


@pytest.mark.unit
def test_encoding_falls_back_to_the_contract_when_the_template_disagrees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    constellation = Constellation(_catalogue())
    encoder = SnapshotEncoder(constellation, "p")
    snapshot = constellation.propagate(WHEN)
    monkeypatch.setattr(RawPosition, "to_bytes", lambda self: b'{"v":2}')
    encoded = encoder.encode(snapshot, 0, WHEN)
    assert encoder.fallback_ticks == 1
    assert {value for _, value in encoded} == {b'{"v":2}'}


class _Underground:
    """An SGP4 model that reports no error but puts the satellite 400 km below the equator."""

    def sgp4(self, jd: object, fr: object) -> tuple[int, tuple[float, ...], tuple[float, ...]]:
        return 0, (5978.0, 0.0, 0.0), (0.0, 7.9, 0.0)


class _UndergroundArray:
    def sgp4(self, jd: np.ndarray, fr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        errors = np.zeros((2, 1), dtype=np.uint8)
        position = np.array([[[6800.0, 0.0, 0.0]], [[5978.0, 0.0, 0.0]]])
        velocity = np.array([[[0.0, 7.6, 0.0]], [[0.0, 7.9, 0.0]]])
        return errors, position, velocity


@pytest.mark.unit
def test_a_position_below_the_ground_is_rejected_even_when_sgp4_reports_no_error() -> None:
    iss = read_tle_file(DEFAULT_TLE_FILE)[0]
    with pytest.raises(Rejected) as rejected:
        propagate(iss, WHEN, _Underground())  # type: ignore[arg-type]
    assert rejected.value.reason is RejectReason.OUT_OF_RANGE
    assert "-4" in rejected.value.detail  # about -400 km, named in the detail

    constellation = Constellation([iss, iss])
    constellation._array = _UndergroundArray()  # type: ignore[assignment]
    assert constellation.propagate(WHEN).ok.tolist() == [True, False]
