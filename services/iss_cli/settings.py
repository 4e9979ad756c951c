"""Configuration of `iss-tracker`: defaults for the local stack, `ISS_TRACKER_*` overrides."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from iss_contract.topics import DEADLETTER_TOPIC, ENRICHED_TOPIC, RAW_TOPIC


class StatusSettings(BaseSettings):
    """Where the status command looks and what it calls healthy."""

    model_config = SettingsConfigDict(env_prefix="ISS_TRACKER_", extra="ignore")

    bootstrap: str | None = "127.0.0.1:19092"
    """Kafka bootstrap servers; unset to skip Kafka."""
    prometheus: str | None = "http://127.0.0.1:19090"
    """Prometheus base URL; unset to skip it."""
    dsn: SecretStr | None = SecretStr("postgresql://iss@127.0.0.1:15432/iss")
    """libpq connection string of the positions database; unset to skip it."""
    producer_metrics: str | None = "http://127.0.0.1:9101/metrics"
    enricher_metrics: str | None = "http://127.0.0.1:9102/metrics"
    operator_metrics: str | None = "http://127.0.0.1:9103/metrics"
    liveview_health: str | None = "http://127.0.0.1:8088/healthz"
    kubeconfig: Path | None = None
    """Report on a cluster instead of the local stack (with `namespace`)."""
    namespace: str | None = None
    raw_topic: str = RAW_TOPIC
    enriched_topic: str = ENRICHED_TOPIC
    deadletter_topic: str = DEADLETTER_TOPIC
    consumer_group: str = "iss-enricher"
    """The enricher's consumer group, whose committed offsets give the lag."""
    max_freshness_s: float = Field(default=60.0, gt=0)
    """Stored data older than this is unhealthy."""
    max_lag: int = Field(default=1000, ge=0)
    """More raw messages than this waiting for the enricher is unhealthy."""
    timeout_s: float = Field(default=3.0, gt=0)
    """Per-probe timeout."""
