"""The `iss-producer` command as a real subprocess."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.iss_producer.fixtures import KafkaService, MakeTopic, consume_all, decoded

COMMAND = str(Path(sys.executable).with_name("iss-producer"))


def environment(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISS_PRODUCER_")}
    env.update({f"ISS_PRODUCER_{k.upper()}": v for k, v in values.items()})
    return env


def assert_metrics_endpoint_serves_health_and_counters(process: subprocess.Popen[str]) -> None:
    assert process.stderr is not None
    port = None
    while port is None:
        line = process.stderr.readline()
        assert line, "the producer exited before logging its metrics address"
        found = re.search(r"metrics on http://[^:]+:(\d+)/metrics", line)
        port = int(found.group(1)) if found else None
    base = f"http://127.0.0.1:{port}"
    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
        assert response.status == 200
    with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:
        assert response.status == 200
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
        page = response.read().decode()
    assert 'iss_producer_current_source{source="sgp4"} 1.0' in page
    produced = re.search(r"^iss_producer_messages_produced_total (\S+)$", page, re.MULTILINE)
    assert produced is not None
    assert float(produced.group(1)) >= 20


@pytest.mark.unit
def test_invalid_configuration_exits_2_with_the_reason() -> None:
    result = subprocess.run(
        [COMMAND],
        env=environment(sources="wheretheiss,carrier-pigeon"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "carrier-pigeon" in result.stderr


@pytest.mark.services
@pytest.mark.parametrize("mode", ["single", "constellation"])
def test_sigterm_flushes_every_message_and_exits_0(
    kafka: KafkaService, make_topic: MakeTopic, tmp_path: Path, mode: str
) -> None:
    topic = make_topic()
    tle = (
        Path(__file__).resolve().parents[2] / "services/iss_producer/data/iss-25544-2026-09-16.tle"
    )
    process = subprocess.Popen(
        [COMMAND, "--log-format", "json"],
        env=environment(
            bootstrap_servers=kafka.bootstrap,
            topic=topic,
            sources="sgp4",
            mode=mode,
            constellation_file=str(tle),
            tick_seconds="0.01",
            linger_ms="200",  # keep messages in flight when the signal arrives
            metrics_port="0",
        ),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert consume_all(kafka.bootstrap, topic, expected=20, timeout_s=60)
        time.sleep(0.5)
        if mode == "single":
            assert_metrics_endpoint_serves_health_and_counters(process)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr

    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    summary = next(line for line in lines if line["message"].startswith("stopped:"))
    assert summary["unflushed"] == 0
    assert summary["failed"] == 0
    assert summary["acknowledged"] == summary["sent"] == summary["last_sequence"] + 1
    values = decoded(consume_all(kafka.bootstrap, topic, expected=summary["acknowledged"]))
    assert sorted(v["sequence"] for v in values) == list(range(summary["acknowledged"]))
    assert any(line["message"].startswith("stopping: flushing") for line in lines)
