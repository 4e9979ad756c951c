"""The status command against the real local Kafka and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from confluent_kafka import Consumer, TopicPartition

from iss_cli.__main__ import main
from iss_cli.gather import gather
from iss_cli.report import Limits, State, problems
from iss_cli.settings import StatusSettings
from iss_enricher.storage.schema import migrate
from tests.support.liveview import produce
from tests.support.messages import enriched_value
from tests.support.ports import free_port

pytestmark = pytest.mark.services


def commit_first(bootstrap: str, topic: str, group: str, count: int) -> None:
    """Commit `count` records of partition 0 under `group`, as the enricher would."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False}
    )
    try:
        consumer.commit(offsets=[TopicPartition(topic, 0, count)], asynchronous=False)
    finally:
        consumer.close()


def closed_url(path: str) -> str:
    return f"http://127.0.0.1:{free_port()}{path}"


def settings_for(kafka: Any, dsn: str, topics: dict[str, str], group: str) -> StatusSettings:
    return StatusSettings(
        bootstrap=kafka.bootstrap,
        dsn=dsn,
        prometheus=None,
        raw_topic=topics["raw"],
        enriched_topic=topics["enriched"],
        deadletter_topic=topics["dead"],
        consumer_group=group,
        producer_metrics=None,
        enricher_metrics=None,
        operator_metrics=None,
        liveview_health=None,
    )


def test_status_reports_lag_dead_letters_freshness_and_the_latest_position(
    kafka: Any, make_topic: Any, pg_dsn: str
) -> None:
    topics = {"raw": make_topic(), "enriched": make_topic(), "dead": make_topic()}
    group = f"enricher-{uuid.uuid4().hex[:8]}"
    produce(kafka.bootstrap, topics["raw"], [b"{}"] * 5)
    commit_first(kafka.bootstrap, topics["raw"], group, 3)
    produce(kafka.bootstrap, topics["dead"], [b"{}"] * 2)
    produce(kafka.bootstrap, topics["enriched"], [enriched_value(9)])
    migrate(pg_dsn)
    stored_at = datetime.now(UTC) - timedelta(seconds=4)
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(
            "INSERT INTO positions (norad_id, event_time, latitude, longitude, altitude_km,"
            " source, subsolar_latitude, subsolar_longitude, ground_daylight,"
            " local_solar_time_h) VALUES (25544, %s, 51.5, -0.1, 418.0, 'sgp4', 0, 0, true, 12)",
            (stored_at,),
        )

    report = gather(settings_for(kafka, pg_dsn, topics, group))

    states = {c.name: c.state for c in report.components}
    assert states["kafka"] is State.UP
    assert states["postgresql"] is State.UP
    assert states["enricher"] is State.ABSENT  # not asked about
    assert report.consumer_lag.value == 2
    assert report.dead_letters.value == 2
    assert report.stored_freshness_s.value is not None
    assert 3 <= report.stored_freshness_s.value < 30
    assert report.latest is not None
    assert (report.latest.latitude, report.latest.longitude) == (51.5, -0.1)
    assert problems(report, Limits()) == []


def test_status_exits_non_zero_when_services_are_down(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    with pytest.raises(SystemExit) as exit_:
        main(
            [
                "status",
                "--bootstrap", f"127.0.0.1:{port}",
                "--dsn", f"postgresql://iss@127.0.0.1:{port}/iss",
                "--prometheus", closed_url(""),
            ]
        )  # fmt: skip
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    assert "UNHEALTHY" in out
    assert "kafka is down" in out
    assert "postgresql is down" in out
