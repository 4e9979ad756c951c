"""The messages the gateway sends to browsers, built from enriched Kafka values.

Frames are JSON text. A live position is `{"type":"position","kafka_ts":ms,"position":{...}}`;
on connect the page gets the recent history as one or more
`{"type":"history","first":bool,"last":bool,"positions":[...]}` frames, oldest first.
The enriched value is forwarded verbatim once it has been checked to be a JSON object with a
position in it, so the gateway never re-serialises a message.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from iss_contract.enriched import InvalidEnrichedError, decode_summary

InvalidPositionError = InvalidEnrichedError
"""A value on the enriched topic that the page could not draw."""


def checked_position(value: bytes | None) -> str:
    """The value as text when it is a JSON object with a drawable position.

    Raises InvalidPositionError otherwise.
    """
    return checked_keyed_position(value)[0]


def checked_keyed_position(value: bytes | None) -> tuple[str, tuple[int, str]]:
    """`checked_position`, and the position's (norad_id, event_time) key for dropping repeats;
    a value without an integer `norad_id` gets the key (0, event_time)."""
    summary = decode_summary(value)  # refuses None
    try:
        return bytes(value or b"").decode("utf-8"), summary.key
    except UnicodeDecodeError as exc:
        raise InvalidPositionError(f"not UTF-8: {exc}") from exc


def position_frame(position_json: str, kafka_ts_ms: int | None) -> str:
    """One live position as a frame; `kafka_ts_ms` is the Kafka record timestamp."""
    ts = "null" if kafka_ts_ms is None else str(int(kafka_ts_ms))
    return f'{{"type":"position","kafka_ts":{ts},"position":{position_json}}}'


def history_frames(positions: Sequence[str], chunk: int) -> Iterator[str]:
    """The history, oldest first, cut into frames of at most `chunk` positions.

    An empty history still yields one (empty) frame, so a reconnecting page always learns
    that its old state is to be replaced.
    """
    if chunk < 1:
        raise ValueError("chunk must be at least 1")
    total = len(positions)
    starts = range(0, total, chunk) if total else range(1)
    for start in starts:
        body = ",".join(positions[start : start + chunk])
        first = "true" if start == 0 else "false"
        last = "true" if start + chunk >= total else "false"
        yield f'{{"type":"history","first":{first},"last":{last},"positions":[{body}]}}'
