"""Helpers shared by the live view tests and the latency benchmark."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
from confluent_kafka import Producer

from iss_contract.enriched import EnrichedPosition
from iss_contract.raw import RawPosition
from iss_liveview.server import Gateway, running
from iss_liveview.settings import LiveviewSettings


def enriched_value(sequence: int, producer_id: str = "test-producer") -> bytes:
    """A realistic enriched ISS position whose event time is now (unique per sequence)."""
    now = datetime.now(UTC)
    raw = RawPosition(
        norad_id=25544,
        event_time=now,
        latitude=round(51.6 * ((sequence % 200) / 100 - 1), 4),
        longitude=round((sequence * 4.3) % 360 - 180, 4),
        source="sgp4",
        producer_id=producer_id,
        sequence=sequence,
        produced_at=now,
        name="ISS (ZARYA)",
        altitude_km=418.2,
        velocity_kmh=27580.0,
        visibility="daylight",
    )
    return EnrichedPosition(
        raw=raw,
        ground_speed_kmh=24800.0,
        heading_deg=52.0,
        orbital_speed_kmh=27580.0,
        subsolar_latitude=-19.9,
        subsolar_longitude=-48.0,
        ground_daylight=True,
        satellite_sunlit=True,
        local_solar_time_h=13.2,
        footprint_radius_km=2240.0,
        enriched_at=now,
    ).to_bytes()


def produce(bootstrap: str, topic: str, values: list[bytes], partition: int | None = None) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for value in values:
        if partition is None:
            producer.produce(topic, key=b"25544", value=value)
        else:
            producer.produce(topic, key=b"25544", value=value, partition=partition)
        producer.poll(0)
    remaining = producer.flush(15)
    assert remaining == 0, f"{remaining} message(s) not delivered to Kafka"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_healthy(base: str, timeout: float = 30) -> None:
    """Until /healthz says the gateway follows its topic."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(base + "/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise AssertionError(f"gateway at {base} did not become healthy in {timeout} s")


@contextlib.asynccontextmanager
async def gateway(bootstrap: str, topic: str, port: int = 0, **extra: object) -> AsyncIterator[str]:
    """A gateway in this process on 127.0.0.1, healthy; yields its base URL."""
    settings = LiveviewSettings(
        bootstrap_servers=bootstrap,
        topic=topic,
        host="127.0.0.1",
        port=port,
        metrics_port=None,
        **extra,  # type: ignore[arg-type]
    )
    async with running(Gateway(settings)) as (host, bound):
        base = f"http://{host}:{bound}"
        await wait_healthy(base)
        yield base
