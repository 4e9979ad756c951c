"""What every librdkafka client of the enricher shares: its log gate, and properties by kind.

Each client gets only the properties of its kind, so librdkafka prints no CONFWARN: consumer
properties (group, commits, fetch sizes) go to consumers only, producer properties to producers
only, and the admin client that lists partitions gets the common ones. All of them log through
one Python logger (`iss_enricher.kafka`) and its `KafkaLogGate`: one line when the broker becomes
unreachable, one when it answers again, and the `iss_enricher_kafka_unreachable` gauge between.
"""

from __future__ import annotations

import logging
from typing import Any

from iss_enricher import metrics
from iss_runtime.kafka_logs import CLIENT_PROPERTIES, KafkaLogGate, kafka_logger

LOGGER_NAME = "iss_enricher.kafka"

CONSUMER_ONLY = frozenset(
    {
        "group.id",
        "enable.auto.commit",
        "auto.commit.interval.ms",
        "enable.partition.eof",
        "auto.offset.reset",
        "fetch.max.bytes",
        "max.partition.fetch.bytes",
        "fetch.wait.max.ms",
        "statistics.interval.ms",
        "stats_cb",
    }
)


def log_gate() -> tuple[logging.Logger, KafkaLogGate]:
    """The enricher's librdkafka logger and its gate (one per process)."""
    return kafka_logger(LOGGER_NAME, metrics.kafka_outage)


def common(config: dict[str, Any]) -> dict[str, Any]:
    """The properties of `config` that every kind of client takes."""
    return {key: value for key, value in config.items() if key not in CONSUMER_ONLY}


def logging_properties() -> dict[str, Any]:
    """`logger` and the logging properties every client of the enricher gets."""
    return {"logger": log_gate()[0], **CLIENT_PROPERTIES}
