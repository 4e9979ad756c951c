"""The thin HTTP edge shared by the API sources: one blocking GET, classified.

The whole request, body included, has one deadline: the body is read in chunks, each read may
wait only for what is left of the deadline, and a server that trickles its body is cut off when
the deadline passes (`timeout`), so a slow answer never holds the tick loop longer than the
request timeout nor yields a position older than that. The body is capped as well: an answer
longer than the cap is refused (`too_large`) without being read to the end.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from iss_producer.errors import ProducerError, Rejected, RejectReason

USER_AGENT = "iss-tracker-producer/0.1"
MAX_BODY_BYTES = 65_536
"""Longest answer read from a position API (a real one is under 1 KB)."""
_CHUNK = 4096


class FetchError(ProducerError):
    """No complete HTTP answer in time: `kind` is `timeout` or `connection_error`."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Answer:
    """What the server said."""

    status: int
    body: bytes
    retry_after: str | None


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The connection's socket, so each read can wait only for the time left."""
    connection: Any = getattr(response.raw, "connection", None) or getattr(
        response.raw, "_connection", None
    )
    sock = getattr(connection, "sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _read_body(
    response: requests.Response,
    deadline: float,
    max_bytes: int,
    clock: Callable[[], float],
    url: str,
) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise Rejected(RejectReason.TOO_LARGE, f"Content-Length {declared} is over {max_bytes}")
    sock = _socket_of(response)
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - clock()
        if left <= 0:
            raise FetchError("timeout", f"{url}: the body did not arrive within the deadline")
        if sock is not None:
            sock.settimeout(left)
        chunk = response.raw.read1(_CHUNK)  # what has arrived, not a full chunk
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise Rejected(RejectReason.TOO_LARGE, f"the body is over {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def get(
    session: requests.Session,
    url: str,
    timeout_s: float,
    max_bytes: int = MAX_BODY_BYTES,
    clock: Callable[[], float] = time.monotonic,
) -> Answer:
    """GET `url` once, headers and body within `timeout_s` in all; the caller decides what a
    status means."""
    deadline = clock() + timeout_s
    try:
        response = session.get(
            url,
            timeout=timeout_s,
            headers={"User-Agent": USER_AGENT},
            allow_redirects=True,
            stream=True,
        )
        with response:
            body = _read_body(response, deadline, max_bytes, clock, url)
    except requests.Timeout as exc:
        raise FetchError("timeout", str(exc)) from exc
    except requests.RequestException as exc:
        raise FetchError("connection_error", str(exc)) from exc
    except (TimeoutError, OSError) as exc:  # a read on the raw socket timed out or failed
        kind = "timeout" if isinstance(exc, TimeoutError) else "connection_error"
        raise FetchError(kind, f"{url}: {exc}") from exc
    except Exception as exc:  # urllib3's own read errors (ReadTimeoutError, ProtocolError)
        if isinstance(exc, (Rejected, FetchError)):
            raise
        kind = "timeout" if "timed out" in str(exc).lower() else "connection_error"
        raise FetchError(kind, f"{url}: {type(exc).__name__}: {exc}") from exc
    return Answer(response.status_code, body, response.headers.get("Retry-After"))


class HttpStatusError(ProducerError):
    """The server answered with a status other than 200."""

    def __init__(self, status: int, retry_after: str | None, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:80]!r}")
        self.status = status
        self.retry_after = retry_after

    @property
    def outcome(self) -> str:
        """Label for iss_producer_fetches_total."""
        if self.status == 429:
            return "rate_limited"
        if self.status >= 500:
            return "server_error"
        return "http_error"

    @property
    def backs_off(self) -> bool:
        """429 and 5xx ask the client to slow down."""
        return self.status == 429 or self.status >= 500


def get_body(
    session: requests.Session, url: str, timeout_s: float, max_bytes: int = MAX_BODY_BYTES
) -> bytes:
    """The body of a 200 answer; HttpStatusError, FetchError or Rejected (too large) otherwise."""
    answer = get(session, url, timeout_s, max_bytes)
    if answer.status != 200:
        raise HttpStatusError(answer.status, answer.retry_after, answer.body)
    return answer.body
