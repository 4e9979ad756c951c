"""The live page in Debian's headless Chromium, fed through the real local Kafka."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.chromium import Page, chromium
from tests.support.liveview import gateway, produce
from tests.support.messages import enriched_value
from tests.support.ports import free_port

pytestmark = pytest.mark.services

CONNECTED = "document.querySelector('#status').dataset.state === 'open'"


def row_shown(sequence: int) -> str:
    return f"document.querySelector('#positions tbody tr[data-sequence=\"{sequence}\"]') !== null"


def marker_at(value: bytes) -> str:
    body = json.loads(value)
    return (
        "(() => { const c = document.querySelector('#map');"
        f" return c.dataset.markerLat === '{body['latitude']}'"
        f" && c.dataset.markerLon === '{body['longitude']}'; }})()"
    )


async def send_and_expect(pages: list[Page], bootstrap: str, topic: str, sequence: int) -> None:
    value = enriched_value(sequence)
    await asyncio.to_thread(produce, bootstrap, topic, [value])
    for page in pages:
        await page.wait_for(row_shown(sequence), timeout=5)
        await page.wait_for(marker_at(value), timeout=5)


def test_page_shows_a_row_and_the_marker_within_seconds_of_a_message(
    kafka: Any, make_topic: Any, tmp_path: Path
) -> None:
    topic = make_topic()

    async def scenario() -> dict[str, Any]:
        async with gateway(kafka.bootstrap, topic) as base, chromium() as browser:
            page = await browser.new_page(base + "/")
            await page.wait_for(CONNECTED)
            await page.wait_for("Number(document.querySelector('#map').dataset.landRings) > 100")
            await send_and_expect([page], kafka.bootstrap, topic, 42)
            shot = await page.screenshot(tmp_path / "liveview.png")
            assert shot.stat().st_size > 10_000
            facts: dict[str, Any] = await page.evaluate(
                "({rows: document.querySelectorAll('#positions tbody tr').length,"
                " latitude: document.querySelector('[data-field=latitude]').textContent,"
                " status: document.querySelector('#status').textContent})"
            )
            return facts

    facts = asyncio.run(scenario())
    assert facts["rows"] == 1
    assert facts["latitude"].endswith("°")
    assert facts["status"] == "live"


def test_page_reconnects_after_a_gateway_restart(kafka: Any, make_topic: Any) -> None:
    topic = make_topic()
    port = free_port()

    async def scenario() -> int:
        async with chromium() as browser:
            async with gateway(kafka.bootstrap, topic, port=port) as base:
                page = await browser.new_page(base + "/")
                await page.wait_for(CONNECTED)
                await send_and_expect([page], kafka.bootstrap, topic, 1)
            await page.wait_for(f"!({CONNECTED})", timeout=5)
            async with gateway(kafka.bootstrap, topic, port=port):
                await page.wait_for(CONNECTED, timeout=20)
                await send_and_expect([page], kafka.bootstrap, topic, 2)
                # The history replayed by the new gateway holds the message from before.
                await page.wait_for(row_shown(1), timeout=5)
                reconnects: int = await page.evaluate("window.issLiveview.reconnects")
                return reconnects

    assert asyncio.run(scenario()) >= 1


def test_two_pages_receive_the_same_message(kafka: Any, make_topic: Any) -> None:
    topic = make_topic()

    async def scenario() -> list[Any]:
        async with gateway(kafka.bootstrap, topic) as base, chromium() as browser:
            pages = [await browser.new_page(base + "/") for _ in range(2)]
            for page in pages:
                await page.wait_for(CONNECTED)
            await send_and_expect(pages, kafka.bootstrap, topic, 7)
            return [
                await page.evaluate(
                    "window.issLiveview.renders.filter(r => r.live).map(r => r.key)"
                )
                for page in pages
            ]

    first, second = asyncio.run(scenario())
    assert first == second
    assert len(first) == 1
