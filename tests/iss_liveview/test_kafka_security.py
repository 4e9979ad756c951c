"""The gateway against a Kafka that asks for SASL_SSL with SCRAM-SHA-512 and ACLs.

Its user may only read (and describe) the enriched topic and use groups named after the
gateway's prefix (tests/support/kafka_security.py makes the broker and its certificates). With
a wrong password, or without an ACL on the topic, it keeps serving the page and says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclOperation,
    ResourcePatternType,
    ResourceType,
)

from iss_liveview.server import Gateway, running
from iss_liveview.settings import LiveviewSettings
from tests.support.kafka_security import SecureKafka
from tests.support.liveview import (
    gateway,
    history_sequences,
    next_position,
    produce,
    wait_healthy,
)
from tests.support.messages import enriched_value

pytestmark = pytest.mark.services

PASSWORD = "l1ve:v@ew/%"
RUNNING_S = 12.0
"""How long a refused gateway is watched: it must keep serving and not flood its log."""
BURST = 5
"""The log gate's lines per facility and minute (iss_runtime.kafka_logs)."""


def new_user(kafka: SecureKafka) -> tuple[str, str]:
    """A live view user allowed its groups, and a topic it is not granted yet."""
    suffix = uuid.uuid4().hex[:8]
    user, topic = f"liveview-{suffix}", f"test-enriched-{suffix}"
    kafka.broker.create_topic(topic)
    kafka.add_user(user, PASSWORD)
    kafka.allow(
        user,
        "iss-liveview",
        AclOperation.READ,
        resource=ResourceType.GROUP,
        pattern=ResourcePatternType.PREFIXED,
    )
    return user, topic


def secure(kafka: SecureKafka, user: str, password: str = PASSWORD) -> dict[str, Any]:
    return {
        "kafka_username": user,
        "kafka_password": password,
        "kafka_ssl_ca_location": kafka.certificates.ca,
    }


@contextlib.asynccontextmanager
async def started(
    kafka: SecureKafka, topic: str, **extra: Any
) -> AsyncIterator[tuple[str, Gateway]]:
    """A gateway in this process, healthy or not; yields its base URL and itself."""
    settings = LiveviewSettings(
        bootstrap_servers=kafka.bootstrap,
        topic=topic,
        host="127.0.0.1",
        port=0,
        metrics_port=None,
        **extra,
    )
    server = Gateway(settings)
    async with running(server) as (host, port):
        yield f"http://{host}:{port}", server


async def still_serving(base: str) -> tuple[int, int]:
    """The page is served and a browser gets its (empty) history; the /healthz (readiness)
    and /livez (liveness) statuses."""
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/") as page:
            assert page.status == 200
        async with http.ws_connect(base + "/ws") as ws:
            assert await history_sequences(ws) == []
        async with http.get(base + "/healthz") as health, http.get(base + "/livez") as live:
            return health.status, live.status


def messages(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def test_a_message_on_the_secured_topic_reaches_a_websocket_client(
    secure_kafka: SecureKafka,
) -> None:
    user, topic = new_user(secure_kafka)
    secure_kafka.allow(user, topic, AclOperation.READ, AclOperation.DESCRIBE)

    async def scenario() -> dict[str, Any]:
        async with (
            gateway(secure_kafka.bootstrap, topic, **secure(secure_kafka, user)) as base,
            aiohttp.ClientSession() as http,
            http.ws_connect(base + "/ws") as ws,
        ):
            assert await history_sequences(ws) == []
            admin = secure_kafka.broker.bootstrap
            await asyncio.to_thread(produce, admin, topic, [enriched_value(7)])
            return await next_position(ws)

    assert asyncio.run(scenario())["sequence"] == 7


def test_with_a_wrong_password_the_gateway_keeps_serving_and_says_once_its_login_is_refused(
    secure_kafka: SecureKafka, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    user, topic = new_user(secure_kafka)
    secure_kafka.allow(user, topic, AclOperation.READ, AclOperation.DESCRIBE)

    async def scenario() -> tuple[tuple[int, int], bool]:
        async with started(secure_kafka, topic, **secure(secure_kafka, user, "wrong")) as (
            base,
            server,
        ):
            await asyncio.sleep(RUNNING_S)
            assert server.feed is not None
            return await still_serving(base), server.feed.alive

    (health, live), consumer_alive = asyncio.run(scenario())

    # Not ready, but alive: a restart would not fix a password, so the kubelet must not loop.
    assert (health, live) == (503, 200)
    assert consumer_alive
    refused = messages(caplog, f"Kafka refused the login of user {user}")
    assert len(refused) == 1, caplog.text[-4000:]
    assert "Authentication failed" in refused[0]
    # librdkafka says so at every reconnect, about three times a second: the gate lets a burst
    # through, the gateway's own line comes once a minute.
    assert len(messages(caplog, "Authentication failed")) <= BURST + 1, caplog.text[-4000:]


@pytest.mark.parametrize("describe", [False, True], ids=["no-acl", "describe-only"])
def test_a_gateway_denied_its_topic_says_so_keeps_serving_and_follows_it_once_read_is_granted(
    secure_kafka: SecureKafka, caplog: pytest.LogCaptureFixture, describe: bool
) -> None:
    caplog.set_level(logging.INFO)
    user, topic = new_user(secure_kafka)
    if describe:  # the partitions can be assigned, the fetch is refused
        secure_kafka.allow(user, topic, AclOperation.DESCRIBE)
    denial = f"user {user} is not authorized to read topic {topic}"

    async def scenario() -> tuple[tuple[int, int], dict[str, Any]]:
        async with started(secure_kafka, topic, **secure(secure_kafka, user)) as (base, _):
            for _ in range(150):
                if messages(caplog, denial):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(3)  # time to repeat itself, were it to
            health = await still_serving(base)

            await asyncio.to_thread(
                secure_kafka.allow, user, topic, AclOperation.READ, AclOperation.DESCRIBE
            )
            await wait_healthy(base)
            async with aiohttp.ClientSession() as http, http.ws_connect(base + "/ws") as ws:
                await history_sequences(ws)
                admin = secure_kafka.broker.bootstrap
                await asyncio.to_thread(produce, admin, topic, [enriched_value(9)])
                return health, await next_position(ws, timeout=30)

    (health, live), position = asyncio.run(scenario())

    denied = messages(caplog, denial)
    assert len(denied) == 1, caplog.text[-4000:]
    assert "TOPIC_AUTHORIZATION_FAILED" in denied[0]
    if not describe:  # without the topic's partitions there is nothing to follow
        assert health == 503
    assert live == 200
    assert position["sequence"] == 9
