"""Configuration of one enricher process, from `ISS_ENRICHER_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from iss_contract.limits import MAX_MESSAGE_BYTES
from iss_contract.topics import DEADLETTER_TOPIC, ENRICHED_TOPIC, RAW_TOPIC


class EnricherSettings(BaseSettings):
    """Everything the enricher process reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="ISS_ENRICHER_", extra="ignore", use_attribute_docstrings=True
    )

    bootstrap_servers: str = "127.0.0.1:19092"
    """Kafka bootstrap servers, comma-separated."""
    raw_topic: str = RAW_TOPIC
    """Topic of raw positions to read."""
    enriched_topic: str = ENRICHED_TOPIC
    """Topic enriched positions are published to."""
    deadletter_topic: str = DEADLETTER_TOPIC
    """Topic rejected records go to."""
    consumer_group: str = "iss-enricher"
    """Group id the consumed offsets are committed under (kafka-exporter lag)."""
    kafka_batch_size: int = Field(4000, ge=1)
    """Most messages read per partition poll."""
    max_message_bytes: int = Field(MAX_MESSAGE_BYTES, ge=131_072)
    """The topics' `max.message.bytes`: the producers' `message.max.bytes`; a longer enriched
    message is dead-lettered (`enriched_too_large`) instead of published."""
    kafka_tail: bool = True
    """Wait for new records at the end of the topic; false stops at the end (batch runs)."""
    kafka_username: str | None = None
    """SASL username (SCRAM-SHA-512) when the cluster needs authentication."""
    kafka_password: SecretStr | None = None
    """SASL password; never logged."""
    kafka_security_protocol: str | None = None
    """librdkafka `security.protocol`; `SASL_SSL` when a username is set, else `PLAINTEXT`."""
    kafka_ssl_ca_location: Path | None = None
    """PEM file of the CA that signed the brokers' certificates (Strimzi's cluster CA)."""

    database_dsn: SecretStr = SecretStr("postgresql://iss@127.0.0.1:15432/iss")
    """libpq connection string of the positions database."""
    db_retry_initial_seconds: float = Field(0.5, gt=0)
    """First back-off after a failed database write."""
    db_retry_max_seconds: float = Field(10.0, gt=0)
    """Longest back-off between database write attempts."""

    max_gap_seconds: float = Field(30.0, gt=0)
    """A longer gap between positions resets the ground speed to null."""
    duplicate_memory: int = Field(128, ge=1)
    """Recent event times remembered per satellite to drop duplicates."""
    min_step_seconds: float = Field(0.5, ge=0)
    """A shorter step between positions gives a null ground speed (jitter dominates it)."""
    max_ground_speed_kmh: float = Field(36_000.0, gt=0)
    """A faster ground speed is impossible and stored as null."""
    max_future_seconds: float = Field(60.0, ge=0)
    """Event times further than this ahead of the clock are rejected."""
    window_seconds: int = Field(60, ge=1)
    """Length of the aggregate window."""
    window_wait_seconds: float = Field(10.0, ge=0)
    """How long a window waits for late, out-of-order positions before it closes."""
    state_buckets: int = Field(64, ge=1)
    """Satellites are spread over this many state keys; fixed for the life of a recovery store."""

    recovery_directory: Path | None = None
    """Bytewax recovery store (a volume); unset disables recovery."""
    recovery_partitions: int = Field(1, ge=1)
    """Partitions created when the recovery store is empty."""
    snapshot_interval_seconds: int = Field(5, ge=1)
    """Epoch length: how often state and offsets are snapshotted."""
    backup_interval_seconds: int = Field(0, ge=0)
    """How long superseded snapshots are kept (for off-node backups)."""

    stop_grace_seconds: float = Field(25.0, gt=0)
    """After a stop signal, exit (status 1) if the drain has not finished within this long, as
    during an outage; the chart sets it 3 s under the pod's termination grace period."""

    process_id: int | None = Field(None, ge=0)
    """This process's index in `addresses` (the `-i` flag)."""
    pod_name: str | None = None
    """StatefulSet pod name (`<name>-<ordinal>`); the ordinal is the process id when unset."""
    addresses: str | None = None
    """host:port of every process, ";"-separated (the `-a` flag); unset runs one process."""

    metrics_host: str = "0.0.0.0"
    """Address the Prometheus endpoint listens on."""
    metrics_port: int = Field(9102, ge=0)
    """Prometheus endpoint port; 0 disables it."""
    log_format: Literal["json", "text"] = "text"
    """json in containers, text on a terminal."""
    log_level: str = "INFO"
    """Root log level."""

    def resolved_process_id(self) -> int | None:
        """`process_id`, or the ordinal at the end of `pod_name` (`iss-enricher-2` -> 2)."""
        if self.process_id is not None:
            return self.process_id
        if self.pod_name:
            ordinal = self.pod_name.rsplit("-", 1)[-1]
            if ordinal.isdigit():
                return int(ordinal)
            raise ValueError(f"pod name {self.pod_name!r} does not end in an ordinal")
        return None
