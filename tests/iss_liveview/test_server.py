"""The HTTP surface of the gateway, without Kafka: positions are handed to it directly."""

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from iss_liveview.server import Gateway, build_app
from iss_liveview.settings import LiveviewSettings

pytestmark = pytest.mark.unit

POSITION = (
    '{"norad_id":25544,"event_time":"2026-11-21T15:04:05.%06dZ",'
    '"latitude":1.5,"longitude":-2.5,"sequence":%d}'
)


def position(n: int, template: str = POSITION) -> bytes:
    """The n-th position: its own event time and sequence number."""
    return (template % (n, n)).encode()


async def started(gateway: Gateway) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(build_app(gateway), shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def raw_get(base: str, target: str) -> int:
    """Send a request line exactly as given (no client-side normalisation) and return the status."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


@pytest.fixture
def static_root(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    static.mkdir()
    (static / "index.html").write_text("<html>page</html>")
    (tmp_path / "secret.txt").write_text("do not serve")
    return static


def test_page_is_served_with_a_strict_content_security_policy(static_root: Path) -> None:
    async def scenario() -> None:
        runner, base = await started(Gateway(LiveviewSettings(static_dir=static_root)))
        try:
            async with aiohttp.ClientSession() as http, http.get(base + "/") as response:
                assert response.status == 200
                assert await response.text() == "<html>page</html>"
                assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        finally:
            await runner.cleanup()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/..%2fsecret.txt",
        "/%252e%252e/secret.txt",
        "/..%5csecret.txt",
        "/static/../../secret.txt",
    ],
)
def test_no_request_reads_a_file_outside_the_static_directory(
    static_root: Path, target: str
) -> None:
    async def scenario() -> int:
        runner, base = await started(Gateway(LiveviewSettings(static_dir=static_root)))
        try:
            return await raw_get(base, target)
        finally:
            await runner.cleanup()

    assert asyncio.run(scenario()) in (400, 403, 404)


def test_websocket_from_another_origin_is_refused(static_root: Path) -> None:
    async def scenario() -> None:
        gateway = Gateway(LiveviewSettings(static_dir=static_root))
        runner, base = await started(gateway)
        try:
            async with aiohttp.ClientSession() as http:
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(base + "/ws", origin="http://evil.example")
                assert refused.value.status == 403
                async with http.ws_connect(base + "/ws", origin=base) as ws:
                    first = json.loads((await ws.receive()).data)
                    assert first["type"] == "history"
        finally:
            await runner.cleanup()

    asyncio.run(scenario())


def test_allow_listed_origin_may_open_the_websocket(static_root: Path) -> None:
    async def scenario() -> None:
        settings = LiveviewSettings(static_dir=static_root, allowed_origins=["http://map.example"])
        runner, base = await started(Gateway(settings))
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.ws_connect(base + "/ws", origin="http://map.example") as ws,
            ):
                assert json.loads((await ws.receive()).data)["type"] == "history"
        finally:
            await runner.cleanup()

    asyncio.run(scenario())


def test_new_browser_gets_history_then_live_positions(static_root: Path) -> None:
    async def scenario() -> None:
        gateway = Gateway(LiveviewSettings(static_dir=static_root, history_chunk=2))
        for n in range(3):
            gateway.deliver(position(n), 1_700_000_000_000 + n)
        gateway.deliver(b"garbage", None)
        runner, base = await started(gateway)
        try:
            async with aiohttp.ClientSession() as http, http.ws_connect(base + "/ws") as ws:
                history: list[int] = []
                while True:
                    frame = json.loads((await ws.receive(timeout=5)).data)
                    history += [p["sequence"] for p in frame["positions"]]
                    if frame["last"]:
                        break
                assert history == [0, 1, 2]
                gateway.deliver(position(3), 1_700_000_000_003)
                frame = json.loads((await ws.receive(timeout=5)).data)
                assert frame["type"] == "position"
                assert frame["position"]["sequence"] == 3
                assert frame["kafka_ts"] == 1_700_000_000_003
        finally:
            await runner.cleanup()

    asyncio.run(scenario())


def test_a_browser_that_never_reads_does_not_delay_another(static_root: Path) -> None:
    async def scenario() -> None:
        settings = LiveviewSettings(static_dir=static_root, queue_size=8, send_timeout_s=1.0)
        gateway = Gateway(settings)
        runner, base = await started(gateway)
        big = POSITION.replace('"sequence"', '"pad":"' + "x" * 20_000 + '","sequence"')
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.ws_connect(base + "/ws"),  # a browser that never reads
                http.ws_connect(base + "/ws") as reader,
            ):
                await reader.receive(timeout=5)  # history
                loop = asyncio.get_running_loop()
                started_at = loop.time()
                for n in range(400):
                    gateway.deliver(position(n, big), None)
                    frame = json.loads((await reader.receive(timeout=5)).data)
                    assert frame["position"]["sequence"] == n
                assert loop.time() - started_at < 10
                dropped = gateway.metrics.dropped._value.get()
                assert dropped > 0
        finally:
            await runner.cleanup()

    asyncio.run(scenario())


def test_a_position_seen_before_is_not_forwarded_again(static_root: Path) -> None:
    async def scenario() -> None:
        gateway = Gateway(LiveviewSettings(static_dir=static_root))
        runner, base = await started(gateway)
        try:
            async with aiohttp.ClientSession() as http, http.ws_connect(base + "/ws") as ws:
                await ws.receive(timeout=5)  # history
                # An enricher restart publishes 1 and 2 again, then goes on with 3.
                for n in (1, 2, 1, 2, 3):
                    gateway.deliver(position(n), None)
                sequences = [
                    json.loads((await ws.receive(timeout=5)).data)["position"]["sequence"]
                    for _ in range(3)
                ]
                assert sequences == [1, 2, 3]
                with pytest.raises(asyncio.TimeoutError):
                    await ws.receive(timeout=0.5)
            assert gateway.metrics.duplicates._value.get() == 2
            assert gateway.hub.history().count(position(1).decode()) == 1
        finally:
            await runner.cleanup()

    asyncio.run(scenario())


def test_healthz_reports_degraded_without_a_kafka_consumer(static_root: Path) -> None:
    async def scenario() -> None:
        runner, base = await started(Gateway(LiveviewSettings(static_dir=static_root)))
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(base + "/healthz") as response:
                    assert response.status == 503
                    assert (await response.json())["kafka_assigned"] is False
                async with http.get(base + "/metrics") as response:
                    assert "iss_liveview_clients" in await response.text()
        finally:
            await runner.cleanup()

    asyncio.run(scenario())
