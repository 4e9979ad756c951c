"""`iss-liveview`: serve the live map and fan enriched positions out to browsers."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence

from iss_liveview.server import Gateway, running
from iss_liveview.settings import LiveviewSettings
from iss_runtime.logs import configure

log = logging.getLogger(__name__)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="iss-liveview",
        description="Live ISS map: consumes the enriched topic and pushes it to browsers. "
        "Every option also has an ISS_LIVEVIEW_* environment variable.",
    )
    parser.add_argument("--bootstrap-servers", help="Kafka bootstrap servers")
    parser.add_argument("--topic", help="enriched positions topic")
    parser.add_argument("--host", help="address to bind")
    parser.add_argument("--port", type=int, help="page and WebSocket port")
    parser.add_argument("--metrics-port", type=int, help="separate /metrics port")
    parser.add_argument(
        "--allowed-origin",
        action="append",
        dest="allowed_origins",
        help="extra browser origin allowed to connect (repeatable; '*' allows all)",
    )
    parser.add_argument("--log-format", choices=("json", "text"))
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> LiveviewSettings:
    overrides = {k: v for k, v in vars(args).items() if v is not None}
    return LiveviewSettings(**overrides)


async def serve(settings: LiveviewSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with running(Gateway(settings)):
        await stop.wait()
        log.info("stopping")


def main(argv: Sequence[str] | None = None) -> None:
    settings = settings_from(parse_args(argv))
    configure(settings.log_format, settings.log_level)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
