"""The Pipeline spec as typed values, parsed from the custom resource's ``spec``.

The API server validates the spec against the CRD schema first; this parser applies the same
defaults and rejects what the schema cannot express, so the operator never acts on a spec it
does not understand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

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

    cooldown_seconds: float = 120.0
    max_restarts_per_hour: int = 3
    backoff_multiplier: float = 2.0
    max_cooldown_seconds: float = 1800.0


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


def _mapping(value: Any, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(f"{field} must be an object")
    return value


def _number(value: Any, field: str, default: float, minimum: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(f"{field} must be a number")
    if value < minimum:
        raise SpecError(f"{field} must be >= {minimum:g}")
    return float(value)


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{field} is required")
    return value


def _url(value: Any, field: str) -> str:
    """A URL the HTTP client can open: scheme, a host whose every label encodes, a valid port."""
    url = _text(value, field)
    if url != url.strip() or any(c.isspace() for c in url):
        raise SpecError(f"{field} must not contain whitespace")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise SpecError(f"{field} must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise SpecError(f"{field} must not carry credentials")
    host = parts.hostname
    if not host:
        raise SpecError(f"{field} has no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise SpecError(f"{field} has an invalid port: {exc}") from exc
    if port == 0:
        raise SpecError(f"{field} has an invalid port: 0")
    if ":" not in host:  # an IPv6 literal needs no encoding
        for label in host.split("."):
            if not 1 <= len(label) <= 63:
                raise SpecError(f"{field} host labels must be 1 to 63 characters long")
        if len(host) > 253:
            raise SpecError(f"{field} host is longer than 253 characters")
        try:
            host.encode("idna")
        except UnicodeError as exc:
            raise SpecError(f"{field} host cannot be encoded: {exc}") from exc
    return url


def _component(raw: Any, index: int) -> Component:
    where = f"spec.components[{index}]"
    data = _mapping(raw, where)
    try:
        role = Role(data.get("role", Role.OTHER))
    except ValueError as exc:
        raise SpecError(f"{where}.role must be one of {[r.value for r in Role]}") from exc
    workload = _mapping(data.get("workload"), f"{where}.workload")
    try:
        kind = WorkloadKind(workload.get("kind", WorkloadKind.DEPLOYMENT))
    except ValueError as exc:
        raise SpecError(f"{where}.workload.kind must be Deployment or StatefulSet") from exc
    freshness = _mapping(data.get("freshness"), f"{where}.freshness")
    lag = _mapping(data.get("lag"), f"{where}.lag")
    upstream = _mapping(data.get("upstream"), f"{where}.upstream")
    if upstream and role is not Role.PRODUCER:
        raise SpecError(f"{where}.upstream is only meaningful for the producer")
    ratio = _number(
        upstream.get("failureRatioThreshold"),
        f"{where}.upstream.failureRatioThreshold",
        DEFAULT_UPSTREAM_FAILURE_RATIO,
        0.0,
    )
    if ratio > 1.0:
        raise SpecError(f"{where}.upstream.failureRatioThreshold must be <= 1")
    return Component(
        name=_text(data.get("name"), f"{where}.name"),
        role=role,
        workload=Workload(kind=kind, name=_text(workload.get("name"), f"{where}.workload.name")),
        freshness_query=_text(freshness.get("query"), f"{where}.freshness.query"),
        freshness_threshold_seconds=_number(
            freshness.get("thresholdSeconds"),
            f"{where}.freshness.thresholdSeconds",
            DEFAULT_FRESHNESS_THRESHOLD_SECONDS,
            1.0,
        ),
        lag_query=_text(lag.get("query"), f"{where}.lag.query") if lag else None,
        lag_threshold_messages=(
            _number(lag.get("thresholdMessages"), f"{where}.lag.thresholdMessages", 0.0, 0.0)
            if lag and lag.get("thresholdMessages") is not None
            else None
        ),
        upstream_query=(
            _text(upstream.get("query"), f"{where}.upstream.query") if upstream else None
        ),
        upstream_failure_ratio=ratio,
    )


def parse_spec(raw: Mapping[str, Any]) -> PipelineSpec:
    """Turn a Pipeline ``spec`` into typed values, or raise SpecError naming the bad field."""
    prometheus = _mapping(raw.get("prometheus"), "spec.prometheus")
    url = _url(prometheus.get("url"), "spec.prometheus.url")
    raw_components = raw.get("components")
    if not isinstance(raw_components, list) or not raw_components:
        raise SpecError("spec.components must list at least one component")
    components = tuple(_component(item, i) for i, item in enumerate(raw_components))
    names = [c.name for c in components]
    if len(set(names)) != len(names):
        raise SpecError("spec.components names must be unique")
    for role in (Role.PRODUCER, Role.ENRICHER):
        if sum(c.role is role for c in components) > 1:
            raise SpecError(f"spec.components may name at most one {role.value}")
    policy_raw = _mapping(raw.get("restartPolicy"), "spec.restartPolicy")
    defaults = RestartPolicy()
    policy = RestartPolicy(
        cooldown_seconds=_number(
            policy_raw.get("cooldownSeconds"),
            "spec.restartPolicy.cooldownSeconds",
            defaults.cooldown_seconds,
            0.0,
        ),
        max_restarts_per_hour=int(
            _number(
                policy_raw.get("maxRestartsPerHour"),
                "spec.restartPolicy.maxRestartsPerHour",
                defaults.max_restarts_per_hour,
                0.0,
            )
        ),
        backoff_multiplier=_number(
            policy_raw.get("backoffMultiplier"),
            "spec.restartPolicy.backoffMultiplier",
            defaults.backoff_multiplier,
            1.0,
        ),
        max_cooldown_seconds=_number(
            policy_raw.get("maxCooldownSeconds"),
            "spec.restartPolicy.maxCooldownSeconds",
            defaults.max_cooldown_seconds,
            0.0,
        ),
    )
    if policy.max_cooldown_seconds < policy.cooldown_seconds:
        raise SpecError("spec.restartPolicy.maxCooldownSeconds must be >= cooldownSeconds")
    return PipelineSpec(
        prometheus_url=url.rstrip("/"),
        prometheus_timeout_seconds=_number(
            prometheus.get("timeoutSeconds"), "spec.prometheus.timeoutSeconds", 5.0, 0.1
        ),
        check_interval_seconds=_number(
            raw.get("checkIntervalSeconds"), "spec.checkIntervalSeconds", 10.0, 1.0
        ),
        components=components,
        restart_policy=policy,
        paused=bool(raw.get("paused", False)),
        dry_run=bool(raw.get("dryRun", False)),
    )
