"""Latency from a message entering Kafka to its row in the live page's table.

Starts (unless given) a throw-away Kafka broker, runs `iss-liveview` as its own process, opens
the page in headless Chromium, then produces enriched positions at a steady rate. Each
record's Kafka timestamp (set when the producer hands it to the client) travels to the page
with the position; the page stamps Date.now() when it inserts the row. Same machine, same
clock: the difference is the end-to-end latency through Kafka, the gateway, the WebSocket
and the DOM.

    .venv/bin/python benchmarks/liveview_latency.py --messages 300 --rate 20

Bounded: at most --messages messages, and the whole run gives up after --timeout seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from confluent_kafka import Producer  # noqa: E402

from tests.support.benchmarks import parse_with_smoke  # noqa: E402
from tests.support.chromium import chromium  # noqa: E402
from tests.support.liveview import wait_healthy  # noqa: E402
from tests.support.messages import enriched_value  # noqa: E402
from tests.support.ports import free_port  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


def start_kafka() -> tuple[Any, str]:
    from iss_devstack.kafka import Kafka
    from iss_devstack.settings import DevstackSettings

    broker = Kafka.for_tests(DevstackSettings(), Path(tempfile.mkdtemp(prefix="iss-bench-kafka-")))
    broker.start()
    return broker, broker.bootstrap


def create_topic(bootstrap: str) -> str:
    from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

    name = f"bench-enriched-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(name, 1, 1)]).values():
        future.result(30)
    return name


async def measure(
    bootstrap: str,
    topic: str,
    messages: int,
    rate: float,
    pages: int,
    timeout: float,
    warmup: int = 20,
) -> dict[str, Any]:
    port = free_port()
    env = {
        **os.environ,
        "ISS_LIVEVIEW_BOOTSTRAP_SERVERS": bootstrap,
        "ISS_LIVEVIEW_TOPIC": topic,
        "ISS_LIVEVIEW_PORT": str(port),
        "ISS_LIVEVIEW_METRICS_PORT": str(free_port()),
        "ISS_LIVEVIEW_LOG_LEVEL": "WARNING",
    }
    gateway = subprocess.Popen(
        [sys.executable, "-m", "iss_liveview"], env=env, stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(base, timeout=60)
        async with chromium() as browser:
            tabs = [await browser.new_page(base + "/") for _ in range(pages)]
            for tab in tabs:
                await tab.wait_for("document.querySelector('#status').dataset.state === 'open'")
            producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "acks": "all"})
            # Warm-up (not measured): connections, JIT and caches on every hop.
            for n in range(warmup):
                producer.produce(topic, key=b"25544", value=enriched_value(n, "warmup"))
                producer.poll(0)
                await asyncio.sleep(1 / rate)
            producer.flush(15)
            for tab in tabs:
                await tab.wait_for(
                    f"window.issLiveview.renders.filter(r => r.live).length >= {warmup}", 30
                )
            started = time.monotonic()
            for n in range(messages):
                producer.produce(topic, key=b"25544", value=enriched_value(warmup + n, "bench"))
                producer.poll(0)
                await asyncio.sleep(max(0.0, started + (n + 1) / rate - time.monotonic()))
            producer.flush(15)
            measured = "window.issLiveview.renders.filter(r => r.live && r.producer_id === 'bench')"
            renders: list[list[dict[str, Any]]] = []
            for tab in tabs:
                await tab.wait_for(
                    f"{measured}.length >= {messages}",
                    timeout=max(5.0, timeout - (time.monotonic() - started)),
                )
                renders.append(await tab.evaluate(measured))
    finally:
        gateway.terminate()
        gateway.wait(15)
    latencies = [
        float(r["rendered_ms"] - r["kafka_ts"]) for page in renders for r in page if r["kafka_ts"]
    ]
    to_browser = [
        float(r["received_ms"] - r["kafka_ts"]) for page in renders for r in page if r["kafka_ts"]
    ]
    return {
        "messages": messages,
        "rate_hz": rate,
        "pages": pages,
        "samples": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p90_ms": percentile(latencies, 90),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "kafka_to_websocket_p50_ms": percentile(to_browser, 50),
        "kafka_to_websocket_p99_ms": percentile(to_browser, 99),
        "goal_p99_ms": 500,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second")
    parser.add_argument("--pages", type=int, default=1, help="browser tabs measured at once")
    parser.add_argument("--bootstrap", help="use this Kafka instead of starting one")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured messages first")
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parse_with_smoke(parser, messages=20, warmup=5, timeout=60.0)
    broker = None
    bootstrap = args.bootstrap
    if bootstrap is None:
        broker, bootstrap = start_kafka()
    try:
        topic = create_topic(bootstrap)
        result = asyncio.run(
            asyncio.wait_for(
                measure(
                    bootstrap,
                    topic,
                    args.messages,
                    args.rate,
                    args.pages,
                    args.timeout,
                    args.warmup,
                ),
                args.timeout + 90,
            )
        )
    finally:
        if broker is not None:
            broker.stop()
    print(json.dumps(result, indent=2))
    verdict = "met" if result["p99_ms"] < result["goal_p99_ms"] else "MISSED"
    print(
        f"Kafka -> browser row: p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms "
        f"over {result['samples']} renders (goal p99 < 500 ms: {verdict})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
