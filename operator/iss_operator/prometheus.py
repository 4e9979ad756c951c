"""A thin client for Prometheus's instant-query HTTP API: one number per query, or why not."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import aiohttp

from iss_operator.readings import Observation, Reading, Unknown, UnknownReason


def reading_from_response(payload: Any) -> Reading:
    """Interpret an /api/v1/query answer. Several series: the largest value (the worst case)."""
    if not isinstance(payload, dict):
        return Unknown(UnknownReason.BAD_RESPONSE, "answer is not a JSON object")
    if payload.get("status") != "success":
        return Unknown(
            UnknownReason.QUERY_ERROR,
            f"{payload.get('errorType', 'error')}: {payload.get('error', 'no detail')}",
        )
    data = payload.get("data")
    if not isinstance(data, dict):
        return Unknown(UnknownReason.BAD_RESPONSE, "answer has no data")
    kind, result = data.get("resultType"), data.get("result")
    if result is None:
        return Unknown(UnknownReason.BAD_RESPONSE, "answer has no result")
    try:
        if kind == "scalar":
            values = [float(result[1])]
        elif kind == "vector":
            values = [float(sample["value"][1]) for sample in result]
        else:
            return Unknown(UnknownReason.BAD_RESPONSE, f"unsupported result type {kind!r}")
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        return Unknown(UnknownReason.BAD_RESPONSE, f"malformed sample: {exc}")
    if not values:
        return Unknown(UnknownReason.NO_DATA, "query returned no series")
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return Unknown(UnknownReason.NOT_A_NUMBER, "query returned NaN or infinity")
    return Observation(max(finite))


async def query(
    session: aiohttp.ClientSession, base_url: str, expr: str, timeout_seconds: float
) -> Reading:
    """Run one instant query; never raises for network or server trouble."""
    url = f"{base_url.rstrip('/')}/api/v1/query"
    try:
        async with session.post(
            url,
            data={"query": expr},
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
        ) as response:
            if response.status >= 500:
                return Unknown(UnknownReason.BAD_RESPONSE, f"HTTP {response.status} from {url}")
            try:
                payload = await response.json(content_type=None)
            except (ValueError, aiohttp.ContentTypeError) as exc:
                return Unknown(UnknownReason.BAD_RESPONSE, f"HTTP {response.status}: {exc}")
    except TimeoutError:
        return Unknown(UnknownReason.TIMEOUT, f"no answer from {url} in {timeout_seconds:g}s")
    except aiohttp.ClientError as exc:
        return Unknown(UnknownReason.UNREACHABLE, f"{url}: {exc}")
    return reading_from_response(payload)


async def query_all(
    session: aiohttp.ClientSession, base_url: str, exprs: list[str], timeout_seconds: float
) -> list[Reading]:
    """Run queries concurrently, answers in the order asked."""
    return list(
        await asyncio.gather(*(query(session, base_url, e, timeout_seconds) for e in exprs))
    )
