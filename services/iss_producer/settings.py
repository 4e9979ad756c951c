"""Configuration of the producer: one settings class, read from ``ISS_PRODUCER_*`` variables."""

from __future__ import annotations

import socket
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SOURCE_NAMES = ("wheretheiss", "open-notify", "sgp4")
DEFAULT_TLE_FILE = Path(__file__).parent / "data" / "iss-25544-2026-09-16.tle"


class Mode(StrEnum):
    """What the producer publishes each tick."""

    SINGLE = "single"
    CONSTELLATION = "constellation"


def _default_producer_id() -> str:
    return f"iss-producer-{socket.gethostname()}-{uuid.uuid4().hex[:6]}"


class ProducerSettings(BaseSettings):
    """Every knob of the producer process; see docs/producer.md for the full table."""

    model_config = SettingsConfigDict(env_prefix="ISS_PRODUCER_", extra="ignore")

    mode: Mode = Mode.SINGLE
    """`single`: the ISS from the source chain; `constellation`: every satellite of a TLE file."""

    bootstrap_servers: str = "127.0.0.1:19092"
    """Kafka bootstrap servers, comma separated."""
    topic: str = "iss.positions.raw"
    """Topic the raw positions are written to."""
    kafka_username: str | None = None
    """SASL username (SCRAM-SHA-512) when the cluster needs authentication."""
    kafka_password: SecretStr | None = None
    """SASL password; never logged."""
    kafka_security_protocol: str | None = None
    """librdkafka `security.protocol` (for example SASL_SSL); unset means PLAINTEXT."""
    kafka_ssl_ca_location: Path | None = None
    """PEM file of the CA that signed the brokers' certificates (Strimzi's cluster CA)."""
    linger_ms: int = Field(default=5, ge=0)
    """librdkafka `linger.ms`: how long to wait to fill a batch."""
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "lz4"
    """librdkafka `compression.type`."""
    queue_max_messages: int = Field(default=100_000, ge=1)
    """Size of the local send queue; when full, the producer waits (backpressure)."""
    delivery_timeout_ms: int = Field(default=120_000, ge=1000)
    """How long librdkafka keeps retrying a message before reporting a delivery failure."""

    norad_id: int = Field(default=25544, gt=0)
    """NORAD catalogue number of the tracked satellite in single mode."""
    sources: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(SOURCE_NAMES))
    """Fallback chain in order of preference, comma separated."""
    tick_seconds: float = Field(default=1.0, gt=0)
    """Interval between ticks (one message per tick in single mode)."""
    request_timeout_seconds: float = Field(default=5.0, gt=0)
    """Timeout of one HTTP request to a position API."""
    failures_before_fallback: int = Field(default=3, ge=1)
    """Consecutive failures of the active source before the next source takes over."""
    primary_probe_seconds: float = Field(default=60.0, gt=0)
    """While on a fallback source, how often the first source of the chain is tried again."""
    backoff_base_seconds: float = Field(default=1.0, gt=0)
    """First backoff step after HTTP 429/5xx (doubled per consecutive failure, full jitter)."""
    backoff_max_seconds: float = Field(default=300.0, gt=0)
    """Upper bound of a backoff, including an honoured Retry-After."""
    max_future_seconds: float = Field(default=5.0, ge=0)
    """A source timestamp further ahead of the local clock than this is rejected."""
    max_age_seconds: float = Field(default=120.0, gt=0)
    """A source timestamp older than this is rejected."""

    wheretheiss_url: str = "https://api.wheretheiss.at/v1/satellites/25544"
    """wheretheiss.at satellite endpoint."""
    opennotify_url: str = "http://api.open-notify.org/iss-now.json"
    """open-notify endpoint (http only)."""
    opennotify_interval_seconds: float = Field(default=5.0, ge=0)
    """Minimum interval between two open-notify requests (the service asks for ~5 s)."""

    tle_file: Path = DEFAULT_TLE_FILE
    """TLE of the tracked satellite for SGP4 (a recent ISS TLE ships with the package)."""
    celestrak_url: str | None = None
    """When set, the TLE is refreshed from this URL (CelesTrak GP, FORMAT=TLE)."""
    tle_refresh_hours: float = Field(default=6.0, ge=1.0)
    """Interval between TLE refresh attempts; a failed attempt waits for the next interval too."""

    constellation_file: Path | None = None
    """TLE file with many satellites, required in constellation mode."""

    metrics_host: str = "0.0.0.0"
    """Address of the metrics/health HTTP server."""
    metrics_port: int = Field(default=9101, ge=0, le=65535)
    """Port of the metrics/health HTTP server (/metrics, /healthz, /readyz); 0 picks a free one."""
    liveness_stall_seconds: float = Field(default=60.0, gt=0)
    """/healthz fails when the main loop has not completed a tick for this long."""
    readiness_stale_seconds: float = Field(default=30.0, gt=0)
    """/readyz fails when no message was acknowledged by Kafka for this long."""

    producer_id: str = Field(default_factory=_default_producer_id)
    """Identity written into every message (`producer_id`)."""
    shutdown_grace_seconds: float = Field(default=20.0, gt=0)
    """On SIGTERM, how long to wait for outstanding messages to be acknowledged."""
    log_format: Literal["json", "text"] = "json"
    """Log line format: `json` for containers, `text` for a terminal."""
    log_level: str = "INFO"
    """Python logging level."""

    @field_validator("sources", mode="before")
    @classmethod
    def _split_sources(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one source is required")
        unknown = [name for name in value if name not in SOURCE_NAMES]
        if unknown:
            raise ValueError(f"unknown source(s) {unknown}; known: {list(SOURCE_NAMES)}")
        if len(set(value)) != len(value):
            raise ValueError("a source appears twice in the chain")
        return value
