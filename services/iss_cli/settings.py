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
    kafka_username: str | None = None
    """SASL username (SCRAM-SHA-512) when the cluster needs authentication."""
    kafka_password: SecretStr | None = None
    """SASL password; never logged."""
    kafka_security_protocol: str | None = None
    """librdkafka `security.protocol`; `SASL_SSL` when a username is set, else `PLAINTEXT`."""
    kafka_ssl_ca_location: Path | None = None
    """PEM file of the CA that signed the brokers' certificates (Strimzi's cluster CA)."""
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


class PassesSettings(BaseSettings):
    """Defaults of the passes command (the process runs one command, so one class applies)."""

    model_config = SettingsConfigDict(env_prefix="ISS_TRACKER_", extra="ignore")

    lat: float | None = None
    """Observer's geodetic latitude in degrees, north positive."""
    lon: float | None = None
    """Observer's longitude in degrees, east positive."""
    height: float = 0.0
    """Observer's height above the WGS-84 ellipsoid in metres."""
    hours: float = Field(default=24.0, gt=0, le=24.0 * 30)
    """Length of the window."""
    min_elevation: float = 10.0
    """Passes are taken from rise to set above this elevation, in degrees."""
    norad: int = Field(default=25544, gt=0)
    """NORAD catalogue number of the satellite in the TLE file."""
    tle_file: Path | None = None
    """TLE file (2- or 3-line); unset means the ISS TLE shipped with the command."""
    max_tle_age_days: float = Field(default=30.0, gt=0)
    """Refuse a window further than this from the elements' epoch."""
