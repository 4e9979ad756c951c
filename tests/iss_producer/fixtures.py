"""A local HTTP server whose answers the test scripts, standing in for the position APIs."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

import pytest
from confluent_kafka import Consumer, Message

COMMAND = str(Path(sys.executable).with_name("iss-producer"))
"""The `iss-producer` console script of this environment."""


def environment(**values: str) -> dict[str, str]:
    """This process's environment without any ISS_PRODUCER_ setting, plus `values` as settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISS_PRODUCER_")}
    env.update({f"ISS_PRODUCER_{k.upper()}": v for k, v in values.items()})
    return env


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    trickle_s: float = 0.0
    """Send the headers at once, then the body a byte at a time spread over this long."""


Responder = Callable[[int], Reply]
"""Gets the 0-based request number, returns the reply."""


class ScriptedServer:
    """Answers with `responder`; records request times and the peak number of requests in flight."""

    def __init__(self) -> None:
        self.responder: Responder = lambda _n: Reply(404, b"no script")
        self.request_times: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.omit_length = False
        """Send no Content-Length: the body ends when the connection closes."""
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    number = len(server.request_times)
                    server.request_times.append(time.monotonic())
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    reply = server.responder(number)
                    if reply.delay_s:
                        time.sleep(reply.delay_s)
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    if server.omit_length:
                        self.close_connection = True
                    else:
                        self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if reply.trickle_s and reply.body:
                        self.wfile.flush()
                        pause = reply.trickle_s / len(reply.body)
                        for i in range(len(reply.body)):
                            self.wfile.write(reply.body[i : i + 1])
                            self.wfile.flush()
                            time.sleep(pause)
                    else:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def requests(self) -> int:
        return len(self.request_times)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.close()


@pytest.fixture
def second_http_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.close()


def _number(timestamp: float) -> str:
    """Whole seconds as the APIs send them, with a fraction only when the test asks for one."""
    return str(int(timestamp)) if float(timestamp).is_integer() else repr(float(timestamp))


def wheretheiss_body(timestamp: float, latitude: float = 12.5, longitude: float = -45.25) -> bytes:
    return (
        f'{{"name":"iss","id":25544,"latitude":{latitude!r},"longitude":{longitude!r},'
        '"altitude":418.2,"velocity":27580.1,"visibility":"daylight","footprint":4480.0,'
        f'"timestamp":{_number(timestamp)},"daynum":2461000.5,"solar_lat":-19.9,'
        '"solar_lon":30.1,"units":"kilometers"}'
    ).encode()


def opennotify_body(
    timestamp: float, latitude: str = "-19.783929", longitude: str = "-72.29"
) -> bytes:
    return (
        f'{{"message": "success", "timestamp": {_number(timestamp)}, '
        f'"iss_position": {{"latitude": "{latitude}", "longitude": "{longitude}"}}}}'
    ).encode()


def consume_all(
    bootstrap: str, topic: str, *, expected: int | None = None, timeout_s: float = 30.0
) -> list[Message]:
    """Every message of `topic` from the start: until `expected` arrived, or until the topic
    has been quiet for two seconds (when `expected` is None), or until the timeout."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages: list[Message] = []
    deadline = time.monotonic() + timeout_s
    quiet_since = time.monotonic()
    try:
        while time.monotonic() < deadline:
            if expected is not None and len(messages) >= expected:
                break
            if expected is None and messages and time.monotonic() - quiet_since > 2.0:
                break
            message = consumer.poll(0.2)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                raise AssertionError(f"consumer error: {error}")
            messages.append(message)
            quiet_since = time.monotonic()
    finally:
        consumer.close()
    return messages


def decoded(messages: list[Message]) -> list[dict[str, Any]]:
    values = []
    for message in messages:
        value = message.value()
        assert isinstance(value, bytes)
        values.append(json.loads(value))
    return values


class KafkaService(Protocol):
    """What these tests use of the session's `kafka` fixture."""

    @property
    def bootstrap(self) -> str: ...


MakeTopic = Callable[..., str]
