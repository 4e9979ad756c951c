"""Operator configuration: one settings class, environment prefix ISS_OPERATOR_."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OperatorSettings(BaseSettings):
    """How the operator process runs; what it watches is in each Pipeline's spec."""

    model_config = SettingsConfigDict(env_prefix="ISS_OPERATOR_", extra="ignore")

    namespace: str = Field("default", description="Namespace whose Pipelines are handled.")
    clusterwide: bool = Field(
        False, description="Handle Pipelines in every namespace (needs a ClusterRole)."
    )
    tick_seconds: float = Field(
        1.0,
        gt=0,
        description="Fixed kopf timer interval; a check runs when spec.checkIntervalSeconds "
        "have passed since status.lastCheck.",
    )
    metrics_host: str = Field("0.0.0.0", description="Address of the /metrics endpoint.")
    metrics_port: int = Field(9103, ge=0, le=65535, description="Port of /metrics; 0 disables.")
    liveness_endpoint: str = Field(
        "http://0.0.0.0:8080/healthz", description="kopf liveness probe URL; empty disables."
    )
    peering_name: str = Field("iss-operator", description="KopfPeering object name.")
    standalone: bool = Field(False, description="Run without peering (development only).")
    priority: int = Field(0, description="Peering priority: the highest-priority peer acts.")
    scan_crds: bool = Field(
        False,
        description="Watch CRDs and namespaces cluster-wide (kopf scanning); off keeps RBAC "
        "namespaced.",
    )
    log_format: Literal["json", "text"] = Field("text", description="Log line format.")
    log_level: str = Field("INFO", description="Python logging level.")
