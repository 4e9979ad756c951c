"""Pods reach host services that listen on 127.0.0.1 through the node address.

A pod's 127.0.0.1 is its own. The devstack's API server and Kafka listen on the host's loopback
only, so this process listens on the node address (a local address on a portless bridge) and
copies bytes to the same port on 127.0.0.1. Nothing else changes: TLS and Kafka's protocol pass
through untouched.

`python -m iss_devstack.nodeforward ADDRESS PORT [PORT ...]` runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence

CHUNK = 65536


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _handler(port: int) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    return handle


async def serve(address: str, ports: Sequence[int]) -> None:
    """Forward address:port to 127.0.0.1:port for every port, until SIGTERM or SIGINT."""
    servers = [await asyncio.start_server(_handler(port), address, port) for port in ports]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"forwarding {address}:{','.join(map(str, ports))} to 127.0.0.1", flush=True)
    await stop.wait()
    for server in servers:
        server.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m iss_devstack.nodeforward")
    parser.add_argument("address", help="the node address to listen on")
    parser.add_argument("ports", nargs="+", type=int, help="ports forwarded to 127.0.0.1")
    options = parser.parse_args(argv)
    asyncio.run(serve(options.address, options.ports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
