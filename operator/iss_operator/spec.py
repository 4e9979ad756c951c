"""The Pipeline spec as typed values, parsed from the custom resource's ``spec``.

The API server validates the spec against the CRD schema first. The pydantic models below state
the same shape, defaults and bounds (a test holds them equal to the CRD's OpenAPI schema) and
reject what the schema cannot express, so the operator never acts on a spec it does not
understand. `parse_spec` turns a valid spec into the frozen values the decisions use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

from iss_contract.pipeline import DEFAULT_FRESHNESS_THRESHOLD_SECONDS

DEFAULT_UPSTREAM_FAILURE_RATIO = 0.9


class SpecError(ValueError):
    """The spec cannot be acted on; the message says which field and why."""


class Role(StrEnum):
    """What a component does in the pipeline; the decision depends on it."""

    PRODUCER = "producer"
    ENRICHER = "enricher"
    OTHER = "other"


class WorkloadKind(StrEnum):
    DEPLOYMENT = "Deployment"
    STATEFULSET = "StatefulSet"


@dataclass(frozen=True)
class Workload:
    kind: WorkloadKind
    name: str


@dataclass(frozen=True)
class Component:
    """One workload the operator watches and may restart."""

    name: str
    role: Role
    workload: Workload
    freshness_query: str
    freshness_threshold_seconds: float
    lag_query: str | None = None
    lag_threshold_messages: float | None = None
    upstream_query: str | None = None
    upstream_failure_ratio: float = DEFAULT_UPSTREAM_FAILURE_RATIO


@dataclass(frozen=True)
class RestartPolicy:
    """How often restarts may happen: a pipeline-wide cooldown that grows, and an hourly budget."""

    cooldown_seconds: float
    max_restarts_per_hour: int
    backoff_multiplier: float
    max_cooldown_seconds: float


@dataclass(frozen=True)
class PipelineSpec:
    prometheus_url: str
    prometheus_timeout_seconds: float
    check_interval_seconds: float
    components: tuple[Component, ...]
    restart_policy: RestartPolicy
    paused: bool = False
    dry_run: bool = False

    def component(self, name: str) -> Component:
        for component in self.components:
            if component.name == name:
                return component
        raise KeyError(name)

    def with_role(self, role: Role) -> Component | None:
        return next((c for c in self.components if c.role is role), None)


def _url(url: str) -> str:
    """A URL the HTTP client can open: scheme, a host whose every label encodes, a valid port."""
    if url != url.strip() or any(c.isspace() for c in url):
        raise ValueError("must not contain whitespace")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials")
    host = parts.hostname
    if not host:
        raise ValueError("has no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"has an invalid port: {exc}") from exc
    if port == 0:
        raise ValueError("has an invalid port: 0")
    if ":" not in host:  # an IPv6 literal needs no encoding
        for label in host.split("."):
            if not 1 <= len(label) <= 63:
                raise ValueError("host labels must be 1 to 63 characters long")
        if len(host) > 253:
            raise ValueError("host is longer than 253 characters")
        try:
            host.encode("idna")
        except UnicodeError as exc:
            raise ValueError(f"host cannot be encoded: {exc}") from exc
    return url


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("is required")
    return text


# Numbers as the API server sends them: an int or a float, never a bool or a string.
Number = Annotated[float, Field(strict=True)]
Query = Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(_not_blank)]
Name = Annotated[str, AfterValidator(_not_blank)]


class _Fields(BaseModel):
    """A part of the spec: camelCase on the wire, frozen, unknown fields ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class PrometheusFields(_Fields):
    url: Annotated[str, Field(max_length=2048), AfterValidator(_url)]
    timeout_seconds: Number = Field(default=5.0, ge=0.1, le=60)


class FreshnessFields(_Fields):
    query: Query
    threshold_seconds: Number = Field(default=DEFAULT_FRESHNESS_THRESHOLD_SECONDS, ge=1, le=86400)


class LagFields(_Fields):
    query: Query
    threshold_messages: Number | None = Field(default=None, ge=0)


class UpstreamFields(_Fields):
    query: Query
    failure_ratio_threshold: Number = Field(default=DEFAULT_UPSTREAM_FAILURE_RATIO, ge=0, le=1)


class WorkloadFields(_Fields):
    kind: WorkloadKind
    name: Annotated[Name, Field(max_length=253)]


class ComponentFields(_Fields):
    name: Annotated[Name, Field(max_length=63)]
    role: Role
    workload: WorkloadFields
    freshness: FreshnessFields
    lag: LagFields | None = None
    upstream: UpstreamFields | None = None

    @model_validator(mode="after")
    def _upstream_is_for_the_producer(self) -> ComponentFields:
        if self.upstream is not None and self.role is not Role.PRODUCER:
            raise ValueError(".upstream is only meaningful for the producer")
        return self


class RestartPolicyFields(_Fields):
    cooldown_seconds: Number = Field(default=120, ge=0, le=86400)
    max_restarts_per_hour: Number = Field(default=3, ge=0, le=100)
    backoff_multiplier: Number = Field(default=2, ge=1, le=10)
    max_cooldown_seconds: Number = Field(default=1800, ge=0, le=86400)

    @model_validator(mode="after")
    def _cap_above_cooldown(self) -> RestartPolicyFields:
        if self.max_cooldown_seconds < self.cooldown_seconds:
            raise ValueError(".maxCooldownSeconds must be >= cooldownSeconds")
        return self


class PipelineFields(_Fields):
    """The whole ``spec`` of a Pipeline, as the CRD states it."""

    prometheus: PrometheusFields
    check_interval_seconds: Number = Field(default=10, ge=1, le=3600)
    paused: bool = False
    dry_run: bool = False
    restart_policy: RestartPolicyFields = Field(default_factory=RestartPolicyFields)
    components: tuple[ComponentFields, ...] = Field(min_length=1, max_length=16)

    @field_validator("components")
    @classmethod
    def _names_and_roles(
        cls, components: tuple[ComponentFields, ...]
    ) -> tuple[ComponentFields, ...]:
        names = [c.name for c in components]
        if len(set(names)) != len(names):
            raise ValueError("names must be unique")
        for role in (Role.PRODUCER, Role.ENRICHER):
            if sum(c.role is role for c in components) > 1:
                raise ValueError(f"may name at most one {role.value}")
        return components


def _where(loc: tuple[int | str, ...]) -> str:
    path = "spec"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _message(error: ErrorDetails) -> str:
    """One validation error as the operator reports it: the field's path, then what is wrong."""
    loc = tuple(part for part in error["loc"] if part not in ("function-after",))
    where, kind, ctx = _where(loc), error["type"], error.get("ctx", {})
    if loc == ("components",) and kind in ("missing", "too_short", "tuple_type"):
        return "spec.components must list at least one component"
    if kind == "missing":
        return f"{where} is required"
    if kind in ("greater_than_equal", "less_than_equal", "too_long"):
        bound = {"greater_than_equal": ">=", "less_than_equal": "<="}.get(kind, "at most")
        limit = ctx.get("ge", ctx.get("le", ctx.get("max_length")))
        return f"{where} must be {bound} {limit:g}"
    if kind == "enum":
        return f"{where} must be one of {ctx['expected']}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{where} must be an object"
    if kind in ("float_type", "int_type", "float_parsing"):
        return f"{where} must be a number"
    if kind == "value_error":
        reason = str(ctx.get("error", error["msg"]))
        return f"{where}{reason}" if reason.startswith(".") else f"{where} {reason}"
    return f"{where}: {error['msg']}"


def parse_spec(raw: Mapping[str, Any]) -> PipelineSpec:
    """Turn a Pipeline ``spec`` into typed values, or raise SpecError naming the bad field."""
    try:
        fields = PipelineFields.model_validate(dict(raw))
    except ValidationError as exc:
        raise SpecError(_message(exc.errors(include_url=False)[0])) from None
    policy = fields.restart_policy
    return PipelineSpec(
        prometheus_url=fields.prometheus.url.rstrip("/"),
        prometheus_timeout_seconds=fields.prometheus.timeout_seconds,
        check_interval_seconds=fields.check_interval_seconds,
        components=tuple(_component(c) for c in fields.components),
        restart_policy=RestartPolicy(
            cooldown_seconds=policy.cooldown_seconds,
            max_restarts_per_hour=int(policy.max_restarts_per_hour),
            backoff_multiplier=policy.backoff_multiplier,
            max_cooldown_seconds=policy.max_cooldown_seconds,
        ),
        paused=fields.paused,
        dry_run=fields.dry_run,
    )


def _component(fields: ComponentFields) -> Component:
    lag, upstream = fields.lag, fields.upstream
    return Component(
        name=fields.name,
        role=fields.role,
        workload=Workload(fields.workload.kind, fields.workload.name),
        freshness_query=fields.freshness.query,
        freshness_threshold_seconds=fields.freshness.threshold_seconds,
        lag_query=lag.query if lag else None,
        lag_threshold_messages=lag.threshold_messages if lag else None,
        upstream_query=upstream.query if upstream else None,
        upstream_failure_ratio=(
            upstream.failure_ratio_threshold if upstream else DEFAULT_UPSTREAM_FAILURE_RATIO
        ),
    )
