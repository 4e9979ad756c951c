from __future__ import annotations

import struct
from datetime import UTC, datetime

import numpy as np
import pytest

from tests.support import sampletrack

from .fixtures import REPO_ROOT

pytestmark = pytest.mark.unit

START = datetime(2026, 9, 17, 6, 0, 0, tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def track() -> sampletrack.Track:
    return sampletrack.propagate(sampletrack.find_tle(REPO_ROOT), START, 6000)


def test_propagated_track_has_iss_altitude_speeds_and_footprint(track: sampletrack.Track) -> None:
    assert np.all((track.altitude_km > 400) & (track.altitude_km < 450))
    assert np.all(np.abs(track.orbital_speed_kmh - 27_600) < 300)
    assert np.all(np.abs(track.ground_speed_kmh - 24_800) < 700)
    assert np.all(np.abs(track.footprint_radius_km - 2_230) < 100)
    assert np.abs(track.latitude).max() == pytest.approx(51.6, abs=0.5)


def test_propagated_track_crosses_day_and_night_and_the_shadow(track: sampletrack.Track) -> None:
    assert track.ground_daylight.any()
    assert (~track.ground_daylight).any()
    assert track.satellite_sunlit.any()
    assert (~track.satellite_sunlit).any()
    # The station stays sunlit for a while after its ground point enters night.
    assert np.count_nonzero(track.satellite_sunlit) > np.count_nonzero(track.ground_daylight)


def test_binary_copy_data_has_header_one_tuple_per_row_and_trailer(
    track: sampletrack.Track,
) -> None:
    data = sampletrack.position_copy_data(track)

    assert data.startswith(b"PGCOPY\n\xff\r\n\x00")
    assert data.endswith(struct.pack(">h", -1))
    header = 11 + 8
    columns = struct.unpack(">h", data[header : header + 2])[0]
    assert columns == len(sampletrack.POSITION_COLUMNS)
    row_bytes = (len(data) - header - 2) // len(track)
    assert row_bytes * len(track) == len(data) - header - 2


def test_minute_aggregates_count_every_sample(track: sampletrack.Track) -> None:
    data = sampletrack.aggregate_copy_data(track)
    minutes = np.unique(np.floor(track.unix_time / 60)).size

    row_bytes = 2 + 7 * 4 + 4 + 8 + 4 + 8 * 4
    assert len(data) == 19 + minutes * row_bytes + 2
