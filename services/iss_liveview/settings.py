"""Configuration of the live view gateway: one settings class, read from `ISS_LIVEVIEW_*`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from iss_contract.topics import ENRICHED_TOPIC

DEFAULT_STATIC_DIR = Path(__file__).resolve().parent / "static"


class LiveviewSettings(BaseSettings):
    """Everything the gateway process needs; every field has an `ISS_LIVEVIEW_` variable."""

    model_config = SettingsConfigDict(
        env_prefix="ISS_LIVEVIEW_", extra="ignore", env_parse_none_str="null"
    )

    bootstrap_servers: str = "127.0.0.1:19092"
    """Kafka bootstrap servers, `host:port[,host:port...]`."""
    topic: str = ENRICHED_TOPIC
    """The enriched positions topic to fan out."""
    kafka_username: str | None = None
    """SASL username (SCRAM-SHA-512) when the cluster needs authentication."""
    kafka_password: SecretStr | None = None
    """SASL password; never logged."""
    kafka_security_protocol: str | None = None
    """librdkafka `security.protocol`; `SASL_SSL` when a username is set, else `PLAINTEXT`."""
    kafka_ssl_ca_location: Path | None = None
    """PEM file of the CA that signed the brokers' certificates (Strimzi's cluster CA)."""
    host: str = "127.0.0.1"
    """Address the HTTP/WebSocket server binds to."""
    port: int = Field(default=8088, ge=0, le=65535)
    """Port of the page and the WebSocket (0 picks a free port)."""
    metrics_port: int | None = Field(default=9104, ge=0, le=65535)
    """Port of the separate /metrics listener; `null` disables it (/metrics stays on `port`)."""
    static_dir: Path = DEFAULT_STATIC_DIR
    """Directory the page is served from; nothing outside it is ever served."""
    allowed_origins: list[str] = Field(default_factory=list)
    """Extra origins allowed to open the WebSocket (`*`: all); same-origin always is."""
    history_size: int = Field(default=6000, ge=0, le=100_000)
    """Positions kept and replayed to every new browser (6000 = one orbit at 1 Hz)."""
    dedupe_memory: int = Field(default=100_000, ge=1)
    """Recent (norad_id, event_time) keys remembered to drop the copies an enricher restart
    publishes again (the replayed tail is about one snapshot interval of traffic)."""
    history_chunk: int = Field(default=500, ge=1)
    """Positions per history frame, so no single frame is huge."""
    queue_size: int = Field(default=256, ge=1)
    """Frames buffered per browser; when full the oldest frame is dropped."""
    send_timeout_s: float = Field(default=5.0, gt=0)
    """A browser that takes longer than this to accept one frame is disconnected."""
    max_drops: int = Field(default=2000, ge=1)
    """A browser that has lost this many frames is disconnected (it reconnects and resyncs)."""
    poll_timeout_s: float = Field(default=0.1, gt=0)
    """How long one Kafka poll blocks; bounds shutdown time."""
    partition_refresh_s: float = Field(default=30.0, gt=0)
    """How often the topic is checked for added partitions, which are then followed too."""
    group_prefix: str = "iss-liveview"
    """Prefix of the per-replica client id (offsets are never committed)."""
    log_format: Literal["json", "text"] = "text"
    """`json` in containers, `text` on a terminal."""
    log_level: str = "INFO"
