import json

import pytest

from iss_liveview.frames import (
    InvalidPositionError,
    checked_position,
    history_frames,
    position_frame,
)

pytestmark = pytest.mark.unit

POSITION = '{"event_time":"2026-11-21T15:04:05.000000Z","latitude":1.5,"longitude":-2.5}'


def test_a_position_is_forwarded_verbatim() -> None:
    assert checked_position(POSITION.encode()) == POSITION


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"event_time":"2026-11-21T15:04:05Z","latitude":"1.5","longitude":2}',
        b'{"event_time":"2026-11-21T15:04:05Z","latitude":true,"longitude":2}',
        b'{"latitude":1,"longitude":2}',
    ],
)
def test_values_the_page_cannot_draw_are_refused(value: bytes | None) -> None:
    with pytest.raises(InvalidPositionError):
        checked_position(value)


def test_position_frame_wraps_the_position_with_the_kafka_timestamp() -> None:
    frame = json.loads(position_frame(POSITION, 1700000000123))
    assert frame == {
        "type": "position",
        "kafka_ts": 1700000000123,
        "position": json.loads(POSITION),
    }
    assert json.loads(position_frame(POSITION, None))["kafka_ts"] is None


def test_history_is_cut_into_chunks_oldest_first() -> None:
    positions = [json.dumps({"n": n}) for n in range(5)]
    frames = [json.loads(f) for f in history_frames(positions, chunk=2)]
    assert [[p["n"] for p in f["positions"]] for f in frames] == [[0, 1], [2, 3], [4]]
    assert [(f["first"], f["last"]) for f in frames] == [
        (True, False),
        (False, False),
        (False, True),
    ]


def test_empty_history_is_still_one_frame_so_the_page_resets() -> None:
    frames = [json.loads(f) for f in history_frames([], chunk=10)]
    assert frames == [{"type": "history", "first": True, "last": True, "positions": []}]
