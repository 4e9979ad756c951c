"""The live view for the tests and the latency benchmark: records to produce, a gateway in this
process, and reading its WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from confluent_kafka import Producer

from iss_liveview.server import Gateway, running
from iss_liveview.settings import LiveviewSettings


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


async def next_position(ws: aiohttp.ClientWebSocketResponse, timeout: float = 15) -> dict[str, Any]:
    """The next live position frame, skipping history frames."""
    while True:
        msg = await ws.receive(timeout=timeout)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        frame = json.loads(msg.data)
        if frame["type"] == "position":
            position: dict[str, Any] = frame["position"]
            return position


async def history_sequences(ws: aiohttp.ClientWebSocketResponse) -> list[int]:
    """The sequences of the history frames a client gets first, up to the last of them."""
    sequences: list[int] = []
    while True:
        frame = json.loads((await ws.receive(timeout=15)).data)
        assert frame["type"] == "history"
        sequences += [p["sequence"] for p in frame["positions"]]
        if frame["last"]:
            return sequences
