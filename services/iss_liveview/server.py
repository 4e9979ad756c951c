"""The aiohttp application: the page, its static files, the WebSocket, /healthz and /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import WSCloseCode, WSMsgType, web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from iss_liveview.dedupe import RecentPositions
from iss_liveview.frames import (
    InvalidPositionError,
    checked_keyed_position,
    history_frames,
    position_frame,
)
from iss_liveview.hub import Hub, Subscriber
from iss_liveview.kafka_feed import KafkaFeed
from iss_liveview.metrics import Metrics
from iss_liveview.origins import origin_allowed
from iss_liveview.paths import resolve_static
from iss_liveview.settings import LiveviewSettings
from iss_runtime.kafka_auth import sasl_config

log = logging.getLogger(__name__)

# Nothing on the page may come from anywhere but this server: no tiles, fonts or CDNs.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "style-src 'self'; script-src 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass
class Gateway:
    """State shared by the handlers of one gateway process."""

    settings: LiveviewSettings
    metrics: Metrics = field(default_factory=Metrics)
    hub: Hub = field(init=False)
    feed: KafkaFeed | None = None
    started_at: float = field(default_factory=time.time)
    last_message_at: float | None = None
    sockets: set[web.WebSocketResponse] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.recent = RecentPositions(self.settings.dedupe_memory)
        self.hub = Hub(
            history_size=self.settings.history_size,
            queue_size=self.settings.queue_size,
            max_drops=self.settings.max_drops,
            on_drop=self.metrics.dropped.inc,
        )

    def deliver(self, value: bytes | None, kafka_ts_ms: int | None) -> None:
        """Called on the event loop for every record the consumer reads."""
        self.metrics.consumed.inc()
        try:
            position, key = checked_keyed_position(value)
        except InvalidPositionError as exc:
            self.metrics.invalid.inc()
            log.warning("skipping a value on the enriched topic: %s", exc)
            return
        if not self.recent.first_time(key):
            self.metrics.duplicates.inc()  # a copy replayed after an enricher restart
            return
        now = time.time()
        self.last_message_at = now
        self.metrics.last_message.set(now)
        if kafka_ts_ms is not None:
            self.metrics.kafka_to_gateway.observe(max(0.0, now - kafka_ts_ms / 1000))
        self.hub.publish(position, position_frame(position, kafka_ts_ms))


GATEWAY = web.AppKey("gateway", Gateway)


async def _writer(ws: web.WebSocketResponse, subscriber: Subscriber, gateway: Gateway) -> str:
    """Send queued frames until the browser leaves; return why the connection should end."""
    timeout = gateway.settings.send_timeout_s
    while not ws.closed:
        if subscriber.overwhelmed:
            return "too_slow"
        frame = await subscriber.queue.get()
        try:
            await asyncio.wait_for(ws.send_str(frame), timeout)
        except TimeoutError:
            return "send_timeout"
        except (ConnectionError, RuntimeError):
            return "gone"
        gateway.metrics.sent.inc()
    return "gone"


async def websocket(request: web.Request) -> web.StreamResponse:
    gateway = request.app[GATEWAY]
    origin = request.headers.get("Origin")
    if not origin_allowed(origin, request.host, gateway.settings.allowed_origins):
        gateway.metrics.rejected.labels(reason="origin").inc()
        log.warning("refused a WebSocket from origin %s", origin)
        raise web.HTTPForbidden(text="origin not allowed\n")
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=64 * 1024)
    await ws.prepare(request)
    gateway.sockets.add(ws)
    subscriber, history = gateway.hub.subscribe()
    gateway.metrics.connections.inc()
    gateway.metrics.connections_total.inc()
    try:
        try:
            for frame in history_frames(history, gateway.settings.history_chunk):
                await asyncio.wait_for(ws.send_str(frame), gateway.settings.send_timeout_s)
        except TimeoutError:
            gateway.metrics.disconnects.labels(reason="send_timeout").inc()
            return ws
        writer = asyncio.create_task(_writer(ws, subscriber, gateway))
        reader = asyncio.create_task(_drain(ws))
        done, _ = await asyncio.wait({writer, reader}, return_when=asyncio.FIRST_COMPLETED)
        if writer in done:
            reason = writer.result()
            if reason != "gone":
                gateway.metrics.disconnects.labels(reason=reason).inc()
                log.info("disconnecting a browser: %s", reason)
        for task in (writer, reader):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    except (ConnectionError, RuntimeError):
        pass
    finally:
        gateway.hub.unsubscribe(subscriber)
        gateway.sockets.discard(ws)
        gateway.metrics.connections.dec()
        if not ws.closed:
            await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"resync")
    return ws


async def _drain(ws: web.WebSocketResponse) -> None:
    """Read (and ignore) what the browser sends, so pings and close frames are handled."""
    async for msg in ws:
        if msg.type == WSMsgType.ERROR:
            return


async def static(request: web.Request) -> web.StreamResponse:
    gateway = request.app[GATEWAY]
    path = resolve_static(gateway.settings.static_dir, request.match_info.get("path", ""))
    if path is None:
        raise web.HTTPNotFound()
    if not path.is_file():
        raise web.HTTPNotFound()
    content_type, _ = mimetypes.guess_type(path.name)
    return web.FileResponse(
        path,
        headers={
            **SECURITY_HEADERS,
            "Content-Type": content_type or "application/octet-stream",
            "Cache-Control": "no-cache",
        },
    )


async def healthz(request: web.Request) -> web.Response:
    """200 while the Kafka consumer runs and has the topic assigned, 503 otherwise."""
    gateway = request.app[GATEWAY]
    feed = gateway.feed
    consuming = feed is not None and feed.alive and feed.assigned
    age = None if gateway.last_message_at is None else time.time() - gateway.last_message_at
    body = {
        "status": "ok" if consuming else "degraded",
        "kafka_assigned": consuming,
        "clients": gateway.hub.subscriber_count,
        "last_message_age_s": None if age is None else round(age, 3),
        "history": len(gateway.hub.history()),
    }
    return web.json_response(body, status=200 if consuming else 503)


async def livez(request: web.Request) -> web.Response:
    """200 while the Kafka consumer thread runs, even when it cannot follow its topic yet (a
    refused login, a topic the ACLs do not grant: a restart would not help); 503 once it died.
    The liveness probe asks this, the readiness probe /healthz."""
    feed = request.app[GATEWAY].feed
    alive = feed is None or feed.alive
    return web.json_response({"status": "ok" if alive else "dead"}, status=200 if alive else 503)


async def metrics(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    return web.Response(
        body=generate_latest(gateway.metrics.registry),
        headers={"Content-Type": CONTENT_TYPE_LATEST},
    )


async def _close_sockets(app: web.Application) -> None:
    """On shutdown tell every browser the server is going away, so it reconnects at once."""
    for ws in list(app[GATEWAY].sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


def build_app(gateway: Gateway) -> web.Application:
    """The page, /ws, /healthz, /livez and /metrics of one gateway (its Kafka feed starts apart)."""
    app = web.Application()
    app[GATEWAY] = gateway
    app.on_shutdown.append(_close_sockets)
    app.router.add_get("/ws", websocket)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/livez", livez)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/{path:.*}", static)
    return app


def build_metrics_app(gateway: Gateway) -> web.Application:
    app = web.Application()
    app[GATEWAY] = gateway
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/livez", livez)
    return app


@contextlib.asynccontextmanager
async def running(gateway: Gateway) -> AsyncIterator[tuple[str, int]]:
    """Start the Kafka feed and the HTTP listeners; yield the page's (host, port)."""
    settings = gateway.settings
    loop = asyncio.get_running_loop()
    gateway.feed = KafkaFeed(
        bootstrap_servers=settings.bootstrap_servers,
        topic=settings.topic,
        backlog=settings.history_size,
        deliver=gateway.deliver,
        loop=loop,
        client_prefix=settings.group_prefix,
        poll_timeout_s=settings.poll_timeout_s,
        refresh_s=settings.partition_refresh_s,
        on_assigned=lambda assigned: gateway.metrics.kafka_connected.set(int(assigned)),
        extra_config=sasl_config(
            settings.kafka_username,
            settings.kafka_password,
            settings.kafka_security_protocol,
            settings.kafka_ssl_ca_location,
        ),
    )
    runners: list[web.AppRunner] = []
    try:
        runner = web.AppRunner(build_app(gateway), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        host, port = runner.addresses[0][:2]
        if settings.metrics_port is not None:
            metrics_runner = web.AppRunner(build_metrics_app(gateway), access_log=None)
            await metrics_runner.setup()
            runners.append(metrics_runner)
            await web.TCPSite(metrics_runner, settings.host, settings.metrics_port).start()
        gateway.feed.start()
        log.info("live view on http://%s:%d/ following %s", host, port, settings.topic)
        yield host, port
    finally:
        if gateway.feed is not None:
            await loop.run_in_executor(None, gateway.feed.stop)
        for runner in reversed(runners):
            await runner.cleanup()
