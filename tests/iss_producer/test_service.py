"""The producer against real Kafka and local HTTP servers standing in for the position APIs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from iss_physics.tle import find, read_tle_file
from iss_producer.metrics import Health, ProducerMetrics
from iss_producer.publisher import Publisher
from iss_producer.service import ProducerService
from iss_producer.settings import ProducerSettings
from iss_producer.sources.sgp4_source import Sgp4Source
from tests.iss_producer.fixtures import (
    KafkaService,
    MakeTopic,
    Reply,
    ScriptedServer,
    consume_all,
    decoded,
    opennotify_body,
    wheretheiss_body,
)

SCHEMA_FILE = (
    Path(__file__).resolve().parents[2]
    / "services"
    / "iss_contract"
    / "schemas"
    / "raw_position.schema.json"
)
VALIDATOR = jsonschema.Draft202012Validator(
    json.loads(SCHEMA_FILE.read_text()), format_checker=jsonschema.FormatChecker()
)


def build(bootstrap: str, topic: str, **overrides: Any) -> ProducerService:
    settings = ProducerSettings(
        bootstrap_servers=bootstrap,
        topic=topic,
        producer_id="test-producer",
        tick_seconds=0.1,
        opennotify_interval_seconds=0.0,
        backoff_base_seconds=0.05,
        **overrides,
    )
    metrics = ProducerMetrics(settings.sources)
    health = Health(60.0, 30.0)
    publisher = Publisher(settings, metrics, health)
    sgp4 = Sgp4Source(find(read_tle_file(settings.tle_file), settings.norad_id))
    return ProducerService(settings, publisher, metrics, health, sgp4)


def sample(service: ProducerService, name: str, **labels: str) -> float:
    value = service.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def run_for(service: ProducerService, seconds: float) -> int:
    """Run the real loop in a thread for `seconds`, then stop it like SIGTERM does."""
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(service.run(stop)))
    thread.start()
    time.sleep(seconds)
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    return result[0]


def ticks_until(service: ProducerService, condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        service.tick()
        service.publisher.poll(0.1)


def now_reply(body: Callable[[float], bytes]) -> Callable[[int], Reply]:
    return lambda _n: Reply(200, body(time.time()), {"Content-Type": "application/json"})


@pytest.mark.services
@pytest.mark.parametrize("source", ["wheretheiss", "open-notify", "sgp4"])
def test_each_source_publishes_valid_messages_keyed_by_norad_id(
    kafka: KafkaService, make_topic: MakeTopic, http_server: ScriptedServer, source: str
) -> None:
    body = wheretheiss_body if source == "wheretheiss" else opennotify_body
    http_server.responder = now_reply(lambda t: body(t))
    topic = make_topic()
    service = build(
        kafka.bootstrap,
        topic,
        sources=[source],
        wheretheiss_url=http_server.url,
        opennotify_url=http_server.url,
    )
    for _ in range(3):
        service.tick()
        time.sleep(0.02)  # distinct source timestamps
    assert service.publisher.flush(30) == 0

    messages = consume_all(kafka.bootstrap, topic, expected=3)
    assert [m.key() for m in messages] == [b"25544"] * 3
    values = decoded(messages)
    for value in values:
        VALIDATOR.validate(value)
    assert [v["sequence"] for v in values] == [0, 1, 2]
    assert {v["source"] for v in values} == {source}
    assert {v["producer_id"] for v in values} == {"test-producer"}
    if source == "wheretheiss":
        assert values[0]["altitude_km"] == 418.2
        assert values[0]["visibility"] == "daylight"
    if source == "open-notify":
        assert values[0]["latitude"] == -19.783929
    if source == "sgp4":
        assert 400 < values[0]["altitude_km"] < 440
    assert sample(service, "iss_producer_messages_produced_total") == 3
    assert sample(service, "iss_producer_last_publish_timestamp_seconds") > time.time() - 60
    assert sample(service, "iss_producer_fetches_total", source=source, outcome="ok") == 3


@pytest.mark.services
def test_fallback_chain_switches_on_failures_and_back_when_the_primary_recovers(
    kafka: KafkaService, make_topic: MakeTopic, http_server: ScriptedServer
) -> None:
    healthy = threading.Event()

    def respond(_n: int) -> Reply:
        if healthy.is_set():
            return Reply(200, wheretheiss_body(time.time()))
        return Reply(503, b"<html>down for maintenance</html>")

    http_server.responder = respond
    topic = make_topic()
    service = build(
        kafka.bootstrap,
        topic,
        sources=["wheretheiss", "sgp4"],
        wheretheiss_url=http_server.url,
        failures_before_fallback=2,
        primary_probe_seconds=1.5,
        backoff_max_seconds=0.05,
    )
    ticks_until(service, lambda: service.chain.active == "sgp4", timeout_s=10)
    assert sample(service, "iss_producer_current_source", source="sgp4") == 1
    assert sample(service, "iss_producer_current_source", source="wheretheiss") == 0
    assert (
        sample(service, "iss_producer_fetches_total", source="wheretheiss", outcome="server_error")
        == 2
    )

    requests_while_down = http_server.requests
    time.sleep(0.2)
    service.tick()
    assert http_server.requests == requests_while_down  # not probed before the interval

    healthy.set()
    ticks_until(service, lambda: service.chain.active == "wheretheiss", timeout_s=10)
    service.tick()
    assert sample(service, "iss_producer_current_source", source="wheretheiss") == 1
    assert service.publisher.flush(30) == 0

    sources = [v["source"] for v in decoded(consume_all(kafka.bootstrap, topic))]
    assert sources[0] == "sgp4"  # the stand-in covered the first failed tick
    assert sources[-1] == "wheretheiss"
    switch_back = sources.index("wheretheiss")
    assert set(sources[:switch_back]) == {"sgp4"}
    assert set(sources[switch_back:]) == {"wheretheiss"}


@pytest.mark.services
def test_slow_server_never_sees_overlapping_requests(
    kafka: KafkaService, make_topic: MakeTopic, http_server: ScriptedServer
) -> None:
    http_server.responder = lambda _n: Reply(200, wheretheiss_body(time.time()), delay_s=1.2)
    topic = make_topic()
    service = build(
        kafka.bootstrap, topic, sources=["wheretheiss"], wheretheiss_url=http_server.url
    )
    assert run_for(service, 4.0) == 0  # ticks every 0.1 s, answers take 1.2 s
    assert http_server.requests >= 2
    assert http_server.max_in_flight == 1
    values = decoded(consume_all(kafka.bootstrap, topic, expected=http_server.requests - 1))
    assert len(values) >= http_server.requests - 1


@pytest.mark.services
def test_rate_limit_backs_off_for_retry_after_while_the_next_source_stands_in(
    kafka: KafkaService, make_topic: MakeTopic, http_server: ScriptedServer
) -> None:
    def respond(n: int) -> Reply:
        if n == 0:
            return Reply(429, b"slow down", {"Retry-After": "2"})
        return Reply(200, wheretheiss_body(time.time()))

    http_server.responder = respond
    topic = make_topic()
    service = build(
        kafka.bootstrap,
        topic,
        sources=["wheretheiss", "sgp4"],
        wheretheiss_url=http_server.url,
        failures_before_fallback=5,
    )
    assert run_for(service, 3.5) == 0

    first, second = http_server.request_times[:2]
    assert second - first >= 2.0
    assert service.chain.active == "wheretheiss"
    assert (
        sample(service, "iss_producer_fetches_total", source="wheretheiss", outcome="rate_limited")
        == 1
    )
    values = decoded(consume_all(kafka.bootstrap, topic))
    sources = [v["source"] for v in values]
    assert sources.count("sgp4") >= 5  # ~2 s of 0.1 s ticks kept flowing
    assert sources[-1] == "wheretheiss"
    assert [v["sequence"] for v in values] == list(range(len(values)))


@pytest.mark.services
def test_timeout_is_counted_and_the_next_tick_retries(
    kafka: KafkaService, make_topic: MakeTopic, http_server: ScriptedServer
) -> None:
    def respond(n: int) -> Reply:
        return Reply(200, wheretheiss_body(time.time()), delay_s=1.5 if n == 0 else 0.0)

    http_server.responder = respond
    topic = make_topic()
    service = build(
        kafka.bootstrap,
        topic,
        sources=["wheretheiss"],
        wheretheiss_url=http_server.url,
        request_timeout_seconds=0.5,
    )
    service.tick()
    service.tick()
    assert (
        sample(service, "iss_producer_fetches_total", source="wheretheiss", outcome="timeout") == 1
    )
    assert sample(service, "iss_producer_fetches_total", source="wheretheiss", outcome="ok") == 1
    assert service.publisher.flush(30) == 0
    assert len(consume_all(kafka.bootstrap, topic, expected=1)) == 1


BAD_WHERETHEISS = {
    "empty_body": b"",
    "html_body": b"<!DOCTYPE html><html><title>502 Bad Gateway</title></html>",
    "invalid_json": b'{"latitude": 12.5,',
    "not_an_object": b"[]",
    "missing_field": b'{"longitude": 1.0, "timestamp": NOW}',
    "wrong_type": b'{"latitude": "north", "longitude": 1.0, "timestamp": NOW}',
    "not_finite": b'{"latitude": NaN, "longitude": 1.0, "timestamp": NOW}',
    "out_of_range": b'{"latitude": 91.0, "longitude": 1.0, "timestamp": NOW}',
    "future_timestamp": b'{"latitude": 1.0, "longitude": 1.0, "timestamp": LATER}',
    "stale_timestamp": b'{"latitude": 1.0, "longitude": 1.0, "timestamp": EARLIER}',
}


@pytest.mark.services
def test_bad_answers_are_counted_by_reason_and_never_published(
    kafka: KafkaService, make_topic: MakeTopic, http_server: ScriptedServer
) -> None:
    good_time = time.time()
    script: list[bytes] = [wheretheiss_body(good_time)]
    for body in BAD_WHERETHEISS.values():
        script.append(
            body.replace(b"EARLIER", b"%d" % (good_time - 86400))
            .replace(b"LATER", b"%d" % (good_time + 3600))
            .replace(b"NOW", b"%d" % good_time)
        )
    script.append(wheretheiss_body(good_time))  # the same timestamp again
    script.append(wheretheiss_body(good_time + 0.5))
    http_server.responder = lambda n: Reply(200, script[n])
    topic = make_topic()
    service = build(
        kafka.bootstrap,
        topic,
        sources=["wheretheiss"],
        wheretheiss_url=http_server.url,
        failures_before_fallback=100,
    )
    for _ in script:
        service.tick()
    assert service.publisher.flush(30) == 0

    for reason in [*BAD_WHERETHEISS, "repeated_timestamp"]:
        assert (
            sample(service, "iss_producer_rejected_total", source="wheretheiss", reason=reason) == 1
        ), reason
    values = decoded(consume_all(kafka.bootstrap, topic))
    assert [(v["sequence"], v["latitude"]) for v in values] == [(0, 12.5), (1, 12.5)]
    assert values[0]["event_time"] != values[1]["event_time"]


@pytest.mark.services
def test_celestrak_refresh_is_tried_once_and_not_retried_after_a_non_200(
    kafka: KafkaService, make_topic: MakeTopic, http_server: ScriptedServer
) -> None:
    http_server.responder = lambda _n: Reply(403, b"Forbidden")
    topic = make_topic()
    service = build(kafka.bootstrap, topic, sources=["sgp4"], celestrak_url=http_server.url)
    for _ in range(20):
        service.tick()
    assert http_server.requests == 1  # the shipped TLE is older than the refresh interval
    assert sample(service, "iss_producer_tle_age_seconds") > 86400
    assert service.publisher.flush(30) == 0
    assert len(consume_all(kafka.bootstrap, topic, expected=20)) == 20


@pytest.mark.services
def test_repeated_timestamps_are_not_published_and_do_not_trigger_the_fallback(
    kafka: KafkaService, make_topic: MakeTopic, http_server: ScriptedServer
) -> None:
    frozen = wheretheiss_body(time.time())
    http_server.responder = lambda _n: Reply(200, frozen)
    topic = make_topic()
    service = build(
        kafka.bootstrap,
        topic,
        sources=["wheretheiss", "sgp4"],
        wheretheiss_url=http_server.url,
        failures_before_fallback=2,
    )
    for _ in range(5):
        service.tick()
    assert service.chain.active == "wheretheiss"
    assert (
        sample(
            service,
            "iss_producer_rejected_total",
            source="wheretheiss",
            reason="repeated_timestamp",
        )
        == 4
    )
    assert service.publisher.flush(30) == 0
    values = decoded(consume_all(kafka.bootstrap, topic))
    assert [v["source"] for v in values] == ["wheretheiss"]


@pytest.mark.services
def test_a_trickled_body_is_cut_off_at_the_deadline_and_its_stale_position_never_published(
    kafka: KafkaService, make_topic: MakeTopic, http_server: ScriptedServer
) -> None:
    def respond(n: int) -> Reply:
        # The headers at once, then the body over 6 s: only the whole request's deadline helps.
        return Reply(200, wheretheiss_body(time.time()), trickle_s=6.0 if n == 0 else 0.0)

    http_server.responder = respond
    topic = make_topic()
    service = build(
        kafka.bootstrap,
        topic,
        sources=["wheretheiss"],
        wheretheiss_url=http_server.url,
        request_timeout_seconds=1.0,
    )
    started = time.monotonic()
    service.tick()
    assert time.monotonic() - started < 1.5  # not the 6 s the body takes
    assert (
        sample(service, "iss_producer_fetches_total", source="wheretheiss", outcome="timeout") == 1
    )
    service.tick()
    assert service.publisher.flush(30) == 0
    (message,) = decoded(consume_all(kafka.bootstrap, topic, expected=1))
    assert message["event_time"] > datetime.fromtimestamp(started, UTC).isoformat()


@pytest.mark.services
@pytest.mark.parametrize("declared", [True, False])
def test_an_answer_over_the_body_cap_is_rejected_without_reading_it_all(
    kafka: KafkaService, make_topic: MakeTopic, http_server: ScriptedServer, declared: bool
) -> None:
    huge = b'{"pad":"' + b"x" * 10_000_000 + b'",' + wheretheiss_body(time.time())[1:]
    http_server.responder = lambda n: (
        Reply(200, huge) if n == 0 else Reply(200, wheretheiss_body(time.time()))
    )
    if not declared:
        http_server.omit_length = True
    topic = make_topic()
    service = build(
        kafka.bootstrap, topic, sources=["wheretheiss"], wheretheiss_url=http_server.url
    )
    service.tick()
    labels = {"source": "wheretheiss", "reason": "too_large"}
    assert sample(service, "iss_producer_rejected_total", **labels) == 1
    service.tick()
    assert service.publisher.flush(30) == 0
    (message,) = decoded(consume_all(kafka.bootstrap, topic, expected=1))
    assert "pad" not in message
