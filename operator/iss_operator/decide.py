"""Which component is at fault, and may it be restarted now: a pure function of what was seen.

The rules, in order (docs/operator.md has them as a table):

1. ``paused``: report Paused, look at nothing.
2. A freshness reading is missing (Prometheus down, empty result): Unknown, restart nothing.
3. The producer is stale while its source fetches fail: Degraded (upstream outage), restart
   nothing, since a restart cannot bring the source back.
4. The producer is stale otherwise: the producer is at fault.
5. Stored data is stale and lags the raw input by more than half its threshold (raw input
   keeps arriving, nothing gets stored): the enricher is at fault.
6. Stored data is stale only because raw input is (the producer has not crossed its own
   threshold yet): Degraded, restart nothing.
7. Any other component is stale while the producer is fresh: that component is at fault.
8. Consumer lag over its threshold with fresh data: Degraded, restart nothing (a restart makes
   a slow consumer slower).
9. Everything fresh: Healthy.

A fault becomes a restart only when the hourly budget has room and the pipeline-wide cooldown
(which grows by ``backoffMultiplier`` per restart within the hour) has passed; in dry-run mode it
becomes a recorded would-restart that obeys the same cooldown and budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from iss_operator.readings import Observation, Reading, Unknown
from iss_operator.spec import Component, PipelineSpec, RestartPolicy, Role

HOUR = timedelta(hours=1)


class Phase(StrEnum):
    HEALTHY = "Healthy"
    DEGRADED = "Degraded"
    RECOVERING = "Recovering"
    BUDGET_EXHAUSTED = "BudgetExhausted"
    PAUSED = "Paused"
    UNKNOWN = "Unknown"
    ERROR = "Error"


class Action(StrEnum):
    NONE = "None"
    RESTART = "Restart"
    WOULD_RESTART = "WouldRestart"


class Reason(StrEnum):
    ALL_FRESH = "AllFresh"
    PAUSED = "Paused"
    METRICS_UNAVAILABLE = "MetricsUnavailable"
    UPSTREAM_OUTAGE = "UpstreamOutage"
    PRODUCER_STALE = "ProducerStale"
    ENRICHER_STALE = "EnricherStale"
    INPUT_STALE = "InputStale"
    COMPONENT_STALE = "ComponentStale"
    CONSUMER_LAG_HIGH = "ConsumerLagHigh"
    COOLDOWN_ACTIVE = "CooldownActive"
    BUDGET_EXHAUSTED = "RestartBudgetExhausted"


@dataclass(frozen=True)
class ComponentReadings:
    """What Prometheus said about one component in this check."""

    freshness: Reading
    lag: Reading | None = None
    upstream_failure_ratio: Reading | None = None


@dataclass(frozen=True)
class RestartRecord:
    """A restart (or, in dry-run mode, a would-restart) kept in status across operator restarts."""

    component: str
    at: datetime
    reason: str
    dry_run: bool = False


@dataclass(frozen=True)
class Verdict:
    """The per-component outcome shown in status."""

    name: str
    freshness_seconds: float | None
    lag_messages: float | None
    healthy: bool | None
    message: str


@dataclass(frozen=True)
class Decision:
    """What the check concluded: the phase and why, and the one action to take, if any."""

    phase: Phase
    reason: Reason
    message: str
    action: Action = Action.NONE
    component: str | None = None
    """The component at fault, or None when nothing is to blame."""
    fault: Reason | None = None
    verdicts: tuple[Verdict, ...] = ()
    metrics_missing: tuple[str, ...] = ()


Fault = tuple[Reason, Component | None, str]
"""(why, the component to restart or None when a restart cannot help, the message)."""


def _value(reading: Reading | None) -> float | None:
    return reading.value if isinstance(reading, Observation) else None


def _is_stale(component: Component, readings: ComponentReadings) -> bool:
    value = _value(readings.freshness)
    return value is not None and value > component.freshness_threshold_seconds


def _lag_high(component: Component, readings: ComponentReadings) -> bool:
    lag = _value(readings.lag)
    threshold = component.lag_threshold_messages
    return lag is not None and threshold is not None and lag > threshold


def _verdict(component: Component, readings: ComponentReadings | None) -> Verdict:
    name = component.name
    if readings is None:
        return Verdict(name, None, None, None, "not observed")
    freshness = _value(readings.freshness)
    lag = _value(readings.lag)
    if isinstance(readings.freshness, Unknown):
        unknown = readings.freshness
        return Verdict(
            name, None, lag, None, f"freshness unknown: {unknown.reason}: {unknown.detail}"
        )
    assert freshness is not None
    threshold = component.freshness_threshold_seconds
    if freshness > threshold:
        return Verdict(name, freshness, lag, False, f"stale: {freshness:.1f}s > {threshold:g}s")
    if _lag_high(component, readings):
        message = f"lag {lag:.0f} > {component.lag_threshold_messages:g} messages"
        return Verdict(name, freshness, lag, False, message)
    return Verdict(name, freshness, lag, True, f"fresh: {freshness:.1f}s")


def restarts_in_last_hour(
    history: Sequence[RestartRecord], now: datetime, dry_run: bool
) -> list[RestartRecord]:
    """The records that count against the hourly budget in the current mode."""
    return [r for r in history if r.dry_run == dry_run and now - r.at < HOUR]


def cooldown_for(policy: RestartPolicy, restarts_this_hour: int) -> timedelta:
    """The wait after the latest restart: it grows with each restart in the hour, up to a cap."""
    exponent = max(restarts_this_hour - 1, 0)
    seconds = policy.cooldown_seconds * policy.backoff_multiplier**exponent
    cap = max(policy.max_cooldown_seconds, policy.cooldown_seconds)
    return timedelta(seconds=min(seconds, cap))


def cooldown_ends(
    spec: PipelineSpec, history: Sequence[RestartRecord], now: datetime
) -> datetime | None:
    """When the cooldown after the latest restart (of the current mode) ends, if any."""
    same_mode = [r for r in history if r.dry_run == spec.dry_run]
    if not same_mode:
        return None
    latest = max(same_mode, key=lambda r: r.at)
    recent = restarts_in_last_hour(history, now, spec.dry_run)
    return latest.at + cooldown_for(spec.restart_policy, len(recent))


def prune_history(history: Sequence[RestartRecord], now: datetime) -> list[RestartRecord]:
    """Keep what the budget and the cooldown still need: the last hour, and the newest record."""
    ordered = sorted(history, key=lambda r: r.at)
    kept = [r for r in ordered if now - r.at < HOUR]
    if ordered and (not kept or kept[-1] is not ordered[-1]):
        kept.append(ordered[-1])
    return kept


def _producer_fault(producer: Component, readings: ComponentReadings) -> Fault:
    """The stale producer's fault: its own, or its upstream's when the source fetches fail."""
    age = _value(readings.freshness)
    if producer.upstream_query is not None:
        ratio = readings.upstream_failure_ratio
        if isinstance(ratio, Unknown) or ratio is None:
            detail = ratio.detail if isinstance(ratio, Unknown) else "no reading"
            return (
                Reason.METRICS_UNAVAILABLE,
                None,
                f"producer stale ({age:.1f}s) and source fetch failures unknown: {detail}",
            )
        if ratio.value >= producer.upstream_failure_ratio:
            return (
                Reason.UPSTREAM_OUTAGE,
                None,
                f"upstream API outage: producer alive but {ratio.value:.0%} of source "
                f"fetches fail; no position published for {age:.1f}s; restarting "
                "would not help",
            )
    return (
        Reason.PRODUCER_STALE,
        producer,
        f"producer stopped publishing: last message {age:.1f}s ago "
        f"(threshold {producer.freshness_threshold_seconds:g}s)",
    )


def _enricher_fault(
    enricher: Component, readings: ComponentReadings, raw: ComponentReadings | None
) -> Fault:
    """The stale enricher's fault: its own, unless the raw input (`raw`) is as old."""
    age = _value(readings.freshness)
    assert age is not None
    threshold = enricher.freshness_threshold_seconds
    if raw is None:
        return (
            Reason.ENRICHER_STALE,
            enricher,
            f"stored data stale ({age:.1f}s > {threshold:g}s); no producer configured",
        )
    raw_age = _value(raw.freshness)
    assert raw_age is not None
    # In an outage upstream both ages grow together, a pipeline latency apart; when the
    # enricher hangs the stored age grows alone. Half the threshold separates the two
    # without delaying the verdict on a hung enricher by the raw input's age.
    if age - raw_age <= threshold / 2:
        return (
            Reason.INPUT_STALE,
            None,
            f"stored data stale ({age:.1f}s) because raw input is ({raw_age:.1f}s old); "
            "the enricher keeps up",
        )
    return (
        Reason.ENRICHER_STALE,
        enricher,
        f"stored data stale ({age:.1f}s > {threshold:g}s) while raw input is fresh "
        f"({raw_age:.1f}s)",
    )


def _fault(spec: PipelineSpec, observations: Mapping[str, ComponentReadings]) -> Fault | None:
    """The fault to act on (most upstream first), or None when nothing is stale."""
    producer = spec.with_role(Role.PRODUCER)
    if producer is not None and _is_stale(producer, observations[producer.name]):
        return _producer_fault(producer, observations[producer.name])
    enricher = spec.with_role(Role.ENRICHER)
    if enricher is not None and _is_stale(enricher, observations[enricher.name]):
        raw = None if producer is None else observations[producer.name]
        return _enricher_fault(enricher, observations[enricher.name], raw)
    for component in spec.components:
        if component.role is Role.OTHER and _is_stale(component, observations[component.name]):
            age = _value(observations[component.name].freshness)
            return (
                Reason.COMPONENT_STALE,
                component,
                f"{component.name} stale ({age:.1f}s > {component.freshness_threshold_seconds:g}s)",
            )
    return None


def _unobserved(
    spec: PipelineSpec,
    observations: Mapping[str, ComponentReadings],
    verdicts: tuple[Verdict, ...],
) -> Decision | None:
    """Unknown, when any component's freshness could not be read; None when all were."""
    missing = tuple(
        c.name
        for c in spec.components
        if c.name not in observations or isinstance(observations[c.name].freshness, Unknown)
    )
    if not missing:
        return None
    reasons = {
        f"{r.freshness.reason}: {r.freshness.detail}"
        for name in missing
        if (r := observations.get(name)) is not None and isinstance(r.freshness, Unknown)
    }
    if len(reasons) == 1 and len(missing) > 1:
        details = f"{', '.join(missing)}: {reasons.pop()}"
    else:
        details = "; ".join(f"{v.name}: {v.message}" for v in verdicts if v.name in missing)
    return Decision(
        Phase.UNKNOWN,
        Reason.METRICS_UNAVAILABLE,
        f"unknown, restarting nothing: {details}",
        verdicts=verdicts,
        metrics_missing=missing,
    )


def _fresh(
    spec: PipelineSpec,
    observations: Mapping[str, ComponentReadings],
    verdicts: tuple[Verdict, ...],
) -> Decision:
    """Nothing is stale: Healthy, or Degraded when a consumer lags."""
    lagging = [c.name for c in spec.components if _lag_high(c, observations[c.name])]
    if not lagging:
        return Decision(Phase.HEALTHY, Reason.ALL_FRESH, "all components fresh", verdicts=verdicts)
    details = "; ".join(v.message for v in verdicts if v.name in lagging)
    return Decision(
        Phase.DEGRADED,
        Reason.CONSUMER_LAG_HIGH,
        f"consumer lag high ({details}); data fresh, restarting nothing",
        fault=Reason.CONSUMER_LAG_HIGH,
        verdicts=verdicts,
    )


def _restart(
    spec: PipelineSpec,
    fault: Fault,
    history: Sequence[RestartRecord],
    now: datetime,
    verdicts: tuple[Verdict, ...],
) -> Decision:
    """A fault with a component to blame: restart it, unless the budget or the cooldown says
    no; in dry-run mode, record that it would have been restarted."""
    reason, culprit, message = fault
    if culprit is None:
        phase = Phase.UNKNOWN if reason is Reason.METRICS_UNAVAILABLE else Phase.DEGRADED
        return Decision(phase, reason, message, fault=reason, verdicts=verdicts)

    def blamed(phase: Phase, why: Reason, text: str, action: Action = Action.NONE) -> Decision:
        return Decision(phase, why, text, action, culprit.name, reason, verdicts)

    policy = spec.restart_policy
    recent = restarts_in_last_hour(history, now, spec.dry_run)
    if len(recent) >= policy.max_restarts_per_hour:
        return blamed(
            Phase.BUDGET_EXHAUSTED,
            Reason.BUDGET_EXHAUSTED,
            f"{message}; restart budget exhausted ({len(recent)}/"
            f"{policy.max_restarts_per_hour} in the last hour), not restarting {culprit.name}",
        )
    same_mode = [r for r in history if r.dry_run == spec.dry_run]
    if same_mode:
        latest = max(same_mode, key=lambda r: r.at)
        wait = cooldown_for(policy, len(recent))
        if now < latest.at + wait:
            remaining = (latest.at + wait - now).total_seconds()
            return blamed(
                Phase.RECOVERING,
                Reason.COOLDOWN_ACTIVE,
                f"{message}; cooldown after restarting {latest.component}: {remaining:.0f}s left",
            )
    workload = f"{culprit.workload.kind} {culprit.workload.name}"
    if spec.dry_run:
        text = f"{message}; dry run: would restart {workload}"
        return blamed(Phase.DEGRADED, reason, text, Action.WOULD_RESTART)
    return blamed(Phase.RECOVERING, reason, f"{message}; restarting {workload}", Action.RESTART)


def decide(
    observations: Mapping[str, ComponentReadings],
    spec: PipelineSpec,
    history: Sequence[RestartRecord],
    now: datetime,
) -> Decision:
    """Decide what the pipeline's state is and which component, if any, to restart."""
    if spec.paused:
        return Decision(Phase.PAUSED, Reason.PAUSED, "paused: not checking, not restarting")
    verdicts = tuple(_verdict(c, observations.get(c.name)) for c in spec.components)
    unobserved = _unobserved(spec, observations, verdicts)
    if unobserved is not None:
        return unobserved
    fault = _fault(spec, observations)
    if fault is None:
        return _fresh(spec, observations, verdicts)
    return _restart(spec, fault, history, now, verdicts)
