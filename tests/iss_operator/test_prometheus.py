from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from iss_operator.prometheus import query, reading_from_response
from iss_operator.readings import Observation, Unknown, UnknownReason
from tests.support.ports import free_port

pytestmark = pytest.mark.unit


def vector(*values: str) -> dict[str, Any]:
    result = [{"metric": {}, "value": [1.0, v]} for v in values]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def test_single_sample_is_an_observation() -> None:
    assert reading_from_response(vector("4.5")) == Observation(4.5)


def test_several_series_report_the_worst() -> None:
    assert reading_from_response(vector("1", "9", "3")) == Observation(9.0)


def test_scalar_result_is_read() -> None:
    payload = {"status": "success", "data": {"resultType": "scalar", "result": [1.0, "7"]}}
    assert reading_from_response(payload) == Observation(7.0)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (vector(), UnknownReason.NO_DATA),
        (vector("NaN"), UnknownReason.NOT_A_NUMBER),
        (
            {"status": "error", "errorType": "bad_data", "error": "parse error"},
            UnknownReason.QUERY_ERROR,
        ),
        (
            {"status": "success", "data": {"resultType": "matrix", "result": []}},
            UnknownReason.BAD_RESPONSE,
        ),
        ([], UnknownReason.BAD_RESPONSE),
    ],
)
def test_answers_without_a_number_are_unknown_with_the_reason(
    payload: Any, reason: UnknownReason
) -> None:
    reading = reading_from_response(payload)
    assert isinstance(reading, Unknown)
    assert reading.reason is reason


async def _ask_closed_port() -> Unknown | Observation:
    port = free_port()
    async with aiohttp.ClientSession() as session:
        return await query(session, f"http://127.0.0.1:{port}", "up", 1.0)


def test_unreachable_prometheus_is_unknown_not_an_exception() -> None:
    import asyncio

    reading = asyncio.run(_ask_closed_port())
    assert isinstance(reading, Unknown)
    assert reading.reason is UnknownReason.UNREACHABLE
