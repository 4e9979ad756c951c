"""Decide whether a browser page from a given origin may open the WebSocket."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def _normalise(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def origin_allowed(origin: str | None, host: str | None, allowed: Iterable[str]) -> bool:
    """Same-origin pages and the configured allow-list may connect; every other origin may not.

    A request without an Origin header does not come from a browser page (browsers always send
    one on a WebSocket handshake), so it cannot be a cross-site hijack and is let through.
    `host` is the request's Host header: the page's own origin must name the same host:port.
    """
    if origin is None:
        return True
    wanted = _normalise(origin)
    allow = {_normalise(entry) for entry in allowed}
    if "*" in allow or wanted in allow:
        return True
    if wanted == "null" or host is None:
        return False
    parts = urlsplit(wanted)
    if parts.scheme not in ("http", "https"):
        return False
    return parts.netloc == host.strip().lower()
