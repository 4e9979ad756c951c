"""Operator configuration: one settings class, environment prefix ISS_OPERATOR_."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from iss_operator.selector import parse_selector


class OperatorSettings(BaseSettings):
    """How the operator process runs; what it watches is in each Pipeline's spec."""

    model_config = SettingsConfigDict(env_prefix="ISS_OPERATOR_", extra="ignore")

    namespace: str = Field("default", description="Namespace whose Pipelines are handled.")
    clusterwide: bool = Field(
        False, description="Handle Pipelines in every namespace (needs a ClusterRole)."
    )
    pipeline_selector: str = Field(
        "",
        description="Handle only the Pipelines with these labels (key=value,key2=value2); "
        "empty handles every Pipeline in scope. The chart sets the release's labels, so two "
        "releases in one namespace each heal only their own Pipeline.",
    )
    metrics_host: str = Field("0.0.0.0", description="Address of the /metrics endpoint.")
    metrics_port: int = Field(9103, ge=0, le=65535, description="Port of /metrics; 0 disables.")
    liveness_endpoint: str = Field(
        "http://0.0.0.0:8080/healthz",
        description="URL of the liveness endpoint (/healthz answers 500 with the problems "
        "found); empty disables.",
    )
    liveness_missed_checks: int = Field(
        3,
        ge=1,
        description="Unhealthy when a Pipeline's check loop has not finished a round for this "
        "many check intervals (plus the deadlines of one round).",
    )
    exit_when_unhealthy: bool | None = Field(
        None,
        description="Exit non-zero when unhealthy; unset means: only outside a pod, where no "
        "kubelet probes /healthz.",
    )
    kube_timeout_seconds: float = Field(
        5.0, gt=0, le=60, description="Deadline of every Kubernetes API request."
    )
    standalone: bool = Field(
        False, description="Run without leader election (development only: one process)."
    )
    lease_name: str = Field("iss-operator", description="Lease that elects the acting replica.")
    lease_namespace: str = Field("", description="Namespace of the Lease; empty uses `namespace`.")
    identity: str = Field("", description="This replica's name in the Lease; empty: host-pid.")
    lease_duration_seconds: float = Field(
        15.0, gt=0, description="A standby takes the Lease once it is this old unrenewed."
    )
    renew_deadline_seconds: float = Field(
        10.0, gt=0, description="The holder stops acting when it could not renew this long."
    )
    lease_retry_seconds: float = Field(2.0, gt=0, description="Seconds between Lease rounds.")
    watch_audit_seconds: float = Field(
        30.0,
        gt=0,
        description="How often the Pipelines in the API are compared with the check loops "
        "running here.",
    )
    scan_crds: bool = Field(
        False,
        description="Watch CRDs and namespaces cluster-wide (kopf scanning); off keeps RBAC "
        "namespaced.",
    )
    log_format: Literal["json", "text"] = Field("text", description="Log line format.")
    log_level: str = Field("INFO", description="Python logging level.")

    @field_validator("pipeline_selector")
    @classmethod
    def _valid_selector(cls, value: str) -> str:
        parse_selector(value)
        return value

    @property
    def pipeline_labels(self) -> dict[str, str]:
        """The labels a handled Pipeline carries; empty: every Pipeline."""
        return parse_selector(self.pipeline_selector)
