"""A small Chrome DevTools Protocol driver for Debian's headless Chromium.

Used by the browser tests and the latency benchmark: start a fresh browser, open pages,
evaluate JavaScript and take screenshots, all over the DevTools WebSocket on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

T = TypeVar("T")

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--window-size=1400,1100",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("Chromium is not installed: apt-get install -y chromium chromium-driver")


class JavaScriptError(AssertionError):
    """The evaluated expression threw in the page."""


class Page:
    """One tab, driven over its own DevTools WebSocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self._ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            body = json.loads(msg.data)
            future = self._pending.pop(body.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(body)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("DevTools connection closed"))

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        call_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        await self._ws.send_json({"id": call_id, "method": method, "params": params or {}})
        body = await asyncio.wait_for(future, timeout=30)
        if "error" in body:
            raise AssertionError(f"{method} failed: {body['error']}")
        result: dict[str, Any] = body["result"]
        return result

    async def navigate(self, url: str) -> None:
        await self.send("Page.enable")
        await self.send("Page.navigate", {"url": url})
        await self.wait_for("document.readyState === 'complete'", timeout=15)

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise JavaScriptError(json.dumps(result["exceptionDetails"])[:1000])
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 10, interval: float = 0.05) -> Any:
        """Poll a JavaScript expression until it is truthy; its value, or AssertionError."""
        deadline = time.monotonic() + timeout
        value: Any = None
        while time.monotonic() < deadline:
            with contextlib.suppress(JavaScriptError):
                value = await self.evaluate(expression)
                if value:
                    return value
            await asyncio.sleep(interval)
        raise AssertionError(f"timed out after {timeout} s waiting for: {expression} ({value!r})")

    async def screenshot(self, path: Path) -> Path:
        shot = await self.send("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    async def close(self) -> None:
        await self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class Chromium:
    """A headless Chromium with a throw-away profile and its DevTools endpoint."""

    def __init__(self, process: subprocess.Popen[bytes], endpoint: str, profile: Path) -> None:
        self.process = process
        self.endpoint = endpoint
        self.profile = profile
        self._http = aiohttp.ClientSession()
        self._pages: list[Page] = []

    async def new_page(self, url: str | None = None) -> Page:
        async with self._http.put(f"{self.endpoint}/json/new?about:blank") as response:
            response.raise_for_status()
            target = await response.json()
        ws = await self._http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        page = Page(ws)
        self._pages.append(page)
        if url is not None:
            await page.navigate(url)
        return page

    async def close(self) -> None:
        for page in self._pages:
            with contextlib.suppress(Exception):
                await page.close()
        await self._http.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        remove_profile(self.profile)


def remove_profile(profile: Path) -> None:
    """Chromium's helper processes can still write for a moment after the browser exits."""
    for _ in range(20):
        shutil.rmtree(profile, ignore_errors=True)
        if not profile.exists():
            return
        time.sleep(0.1)


async def _poll(check: Callable[[], Awaitable[T | None]], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check()
        if value is not None:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("Chromium did not open its DevTools port")


@contextlib.asynccontextmanager
async def chromium(timeout: float = 30) -> AsyncIterator[Chromium]:
    """Start a fresh headless Chromium; stop it and remove its profile afterwards."""
    profile = Path(tempfile.mkdtemp(prefix="iss-chromium-"))
    process = subprocess.Popen(
        [chromium_binary(), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    active_port = profile / "DevToolsActivePort"

    async def port() -> int | None:
        if process.poll() is not None:
            raise AssertionError(f"Chromium exited with {process.returncode}")
        if active_port.exists():
            first = active_port.read_text().splitlines()[:1]
            if first and first[0].isdigit():
                return int(first[0])
        return None

    browser: Chromium | None = None
    try:
        endpoint = f"http://127.0.0.1:{await _poll(port, timeout)}"
        browser = Chromium(process, endpoint, profile)
        yield browser
    finally:
        if browser is not None:
            await browser.close()
        else:
            process.kill()
            process.wait(10)
            remove_profile(profile)
