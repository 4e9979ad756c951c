"""The `iss-producer` command as a real subprocess."""

import json
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.iss_producer.fixtures import (
    COMMAND,
    KafkaService,
    MakeTopic,
    Reply,
    ScriptedServer,
    consume_all,
    decoded,
    environment,
    wheretheiss_body,
)


def metrics_base(process: subprocess.Popen[str]) -> str:
    """The producer's metrics address, read from its log."""
    assert process.stderr is not None
    port = None
    while port is None:
        line = process.stderr.readline()
        assert line, "the producer exited before logging its metrics address"
        found = re.search(r"metrics on http://[^:]+:(\d+)/metrics", line)
        port = int(found.group(1)) if found else None
    return f"http://127.0.0.1:{port}"


def assert_metrics_endpoint_serves_health_and_counters(process: subprocess.Popen[str]) -> None:
    base = metrics_base(process)
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


@pytest.mark.services
def test_a_huge_a_trickled_and_a_miles_answer_neither_stop_the_producer_nor_publish_wrong_data(
    kafka: KafkaService, make_topic: MakeTopic, http_server: ScriptedServer
) -> None:
    def respond(n: int) -> Reply:
        now = time.time()
        if n == 0:  # 10 MB of valid JSON
            position = wheretheiss_body(now, latitude=0.5)
            return Reply(200, b'{"pad":"' + b"x" * 10_000_000 + b'",' + position[1:])
        if n == 1:  # the headers at once, the body over 4 s: stale once it is all there
            return Reply(200, wheretheiss_body(now, latitude=1.5), trickle_s=4.0)
        if n == 2:  # wheretheiss.at with units=miles
            miles = wheretheiss_body(now, latitude=2.5).replace(
                b'"altitude":418.2', b'"altitude":259.9'
            )
            return Reply(200, miles.replace(b'"kilometers"', b'"miles"'))
        return Reply(200, wheretheiss_body(now, latitude=3.5))

    http_server.responder = respond
    topic = make_topic()
    process = subprocess.Popen(
        [COMMAND, "--log-format", "json"],
        env=environment(
            bootstrap_servers=kafka.bootstrap,
            topic=topic,
            sources="wheretheiss",
            wheretheiss_url=http_server.url,
            request_timeout_seconds="1",
            failures_before_fallback="10",
            metrics_port="0",
        ),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = metrics_base(process)
        values = decoded(consume_all(kafka.bootstrap, topic, expected=3, timeout_s=60))
        assert process.poll() is None, "an answer stopped the producer"
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
            page = response.read().decode()
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    latitudes = [v["latitude"] for v in values]
    assert latitudes == [2.5, 3.5, 3.5]  # nothing of the huge or the trickled answer
    assert values[0]["altitude_km"] == pytest.approx(259.9 * 1.609344, abs=0.01)
    assert all(v["altitude_km"] == pytest.approx(418.2) for v in values[1:])
    rejected = 'iss_producer_rejected_total{reason="too_large",source="wheretheiss"} 1.0'
    assert rejected in page
    assert 'iss_producer_fetches_total{outcome="timeout",source="wheretheiss"} 1.0' in page
