"""Pipeline status and conditions, built from a decision: pure, no I/O."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from iss_operator.decide import Decision, Phase, Reason, RestartRecord, Verdict
from iss_operator.spec import Component, PipelineSpec, Role

CONDITION_READY = "Ready"
CONDITION_METRICS = "MetricsAvailable"
CONDITION_BUDGET = "RestartBudgetExhausted"
CONDITION_PAUSED = "Paused"

MAX_CONDITION_MESSAGE = 32768
"""metav1.Condition's limits, which the CRD's schema enforces on every status write."""
MAX_CONDITION_REASON = 1024
_REASON = re.compile(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")


def condition_reason(reason: str) -> str:
    """``reason`` as metav1.Condition accepts it: a CamelCase word ("restart failed" becomes
    "RestartFailed"), or "Unknown" when nothing of it is left."""
    if len(reason) <= MAX_CONDITION_REASON and _REASON.match(reason):
        return reason
    words = re.findall(r"[A-Za-z0-9]+", reason)
    word = "".join(w[:1].upper() + w[1:] for w in words).lstrip("0123456789")
    return word[:MAX_CONDITION_REASON] or "Unknown"


def condition_message(message: str) -> str:
    """``message`` cut to metav1.Condition's limit, saying that it was cut."""
    if len(message) <= MAX_CONDITION_MESSAGE:
        return message
    marker = " [cut]"
    return message[: MAX_CONDITION_MESSAGE - len(marker)] + marker


def format_time(moment: datetime) -> str:
    """RFC 3339, UTC, whole seconds: what Kubernetes uses for `date` fields."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_instant(moment: datetime) -> str:
    """RFC 3339, UTC, to the microsecond: for times that cooldowns are measured from."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Either form above (and any RFC 3339 time with an offset), as an aware UTC datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment.astimezone(UTC)


def format_age(seconds: float | None) -> str:
    """A short human age for the Freshness column: 4s, 3m12s, 2h5m."""
    if seconds is None:
        return "unknown"
    whole = max(int(seconds), 0)
    if whole < 120:
        return f"{whole}s"
    if whole < 7200:
        return f"{whole // 60}m{whole % 60}s"
    return f"{whole // 3600}h{whole % 3600 // 60}m"


def history_from_status(status: Mapping[str, Any]) -> list[RestartRecord]:
    """Restart records kept in status; malformed entries are ignored, never fatal."""
    records: list[RestartRecord] = []
    for item in status.get("restartHistory") or []:
        try:
            records.append(
                RestartRecord(
                    component=str(item["component"]),
                    at=parse_time(str(item["at"])),
                    reason=str(item.get("reason", "")),
                    dry_run=bool(item.get("dryRun", False)),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return records


def history_to_status(history: Sequence[RestartRecord]) -> list[dict[str, Any]]:
    return [
        {
            "component": r.component,
            "at": format_instant(r.at),
            "reason": r.reason,
            "dryRun": r.dry_run,
        }
        for r in history
    ]


def _condition(
    previous: Mapping[str, Mapping[str, Any]],
    kind: str,
    status: str,
    reason: str,
    message: str,
    now: datetime,
    generation: int | None,
) -> dict[str, Any]:
    """A metav1.Condition; lastTransitionTime moves only when the status flips."""
    before = previous.get(kind)
    transition = format_time(now)
    kept = before.get("lastTransitionTime") if before is not None else None
    if before is not None and before.get("status") == status and isinstance(kept, str):
        # An unreadable time from an older status: the flip is dated now.
        with contextlib.suppress(ValueError):
            transition = format_time(parse_time(kept))
    condition: dict[str, Any] = {
        "type": kind,
        "status": status,
        "reason": condition_reason(reason),
        "message": condition_message(message),
        "lastTransitionTime": transition,
    }
    if generation is not None:
        condition["observedGeneration"] = generation
    return condition


def build_conditions(
    decision: Decision,
    previous: Sequence[Mapping[str, Any]],
    now: datetime,
    generation: int | None,
) -> list[dict[str, Any]]:
    by_type = {str(c.get("type")): c for c in previous if isinstance(c, Mapping)}
    ready = "True" if decision.phase is Phase.HEALTHY else "False"
    if decision.phase in (Phase.UNKNOWN, Phase.PAUSED):
        ready = "Unknown"
    if decision.phase is Phase.PAUSED:
        metrics = ("Unknown", "Paused", "not checked while paused")
    elif decision.metrics_missing or decision.reason is Reason.METRICS_UNAVAILABLE:
        metrics = ("False", Reason.METRICS_UNAVAILABLE.value, decision.message)
    else:
        metrics = ("True", "QueriesAnswered", "every freshness query returned a number")
    exhausted = decision.phase is Phase.BUDGET_EXHAUSTED
    budget = (
        ("True", Reason.BUDGET_EXHAUSTED.value, decision.message)
        if exhausted
        else ("False", "BudgetAvailable", "restarts allowed by the hourly budget")
    )
    paused = (
        ("True", "Paused", "spec.paused is true")
        if decision.phase is Phase.PAUSED
        else ("False", "Active", "checks run every spec.checkIntervalSeconds")
    )
    return [
        _condition(
            by_type,
            CONDITION_READY,
            ready,
            decision.reason.value,
            decision.message,
            now,
            generation,
        ),
        _condition(by_type, CONDITION_METRICS, *metrics, now, generation),
        _condition(by_type, CONDITION_BUDGET, *budget, now, generation),
        _condition(by_type, CONDITION_PAUSED, *paused, now, generation),
    ]


def _component_status(
    component: Component,
    verdict: Verdict | None,
    live: Sequence[RestartRecord],
    in_hour: Sequence[RestartRecord],
) -> dict[str, Any]:
    """One entry of ``status.components``: what the check saw of it, and its restarts."""
    own = [r for r in in_hour if r.component == component.name]
    own_last = max((r.at for r in live if r.component == component.name), default=None)
    entry: dict[str, Any] = {
        "name": component.name,
        "role": component.role.value,
        "workload": f"{component.workload.kind.value}/{component.workload.name}",
        "restartsLastHour": len(own),
    }
    if verdict is not None:
        entry["message"] = verdict.message
        if verdict.healthy is not None:
            entry["healthy"] = verdict.healthy
        if verdict.freshness_seconds is not None:
            entry["freshnessSeconds"] = round(verdict.freshness_seconds, 3)
        if verdict.lag_messages is not None:
            entry["lagMessages"] = int(verdict.lag_messages)
    if own_last is not None:
        entry["lastRestart"] = format_time(own_last)
    return entry


def build_status(
    *,
    decision: Decision,
    spec: PipelineSpec,
    history: Sequence[RestartRecord],
    previous: Mapping[str, Any],
    now: datetime,
    generation: int | None,
) -> dict[str, Any]:
    """The whole ``status`` for one check. ``history`` already includes this check's restart."""
    live = [r for r in history if not r.dry_run or spec.dry_run]
    in_hour = [r for r in live if (now - r.at).total_seconds() < 3600 and r.dry_run == spec.dry_run]
    last = max(live, key=lambda r: r.at) if live else None
    enricher = spec.with_role(Role.ENRICHER)
    by_name = {v.name: v for v in decision.verdicts}
    stored = by_name.get(enricher.name) if enricher is not None else None
    components = [
        _component_status(component, by_name.get(component.name), live, in_hour)
        for component in spec.components
    ]
    status: dict[str, Any] = {
        "phase": decision.phase.value,
        "reason": decision.reason.value,
        "message": decision.message,
        "observedGeneration": generation,
        "lastCheck": format_instant(now),
        "freshness": format_age(stored.freshness_seconds if stored else None),
        "freshnessSeconds": (
            round(stored.freshness_seconds, 3)
            if stored is not None and stored.freshness_seconds is not None
            else None
        ),
        "lag": int(stored.lag_messages) if stored and stored.lag_messages is not None else None,
        "restartsLastHour": len(in_hour),
        "lastRestart": format_time(last.at) if last else None,
        "lastDecision": {
            "action": decision.action.value,
            "component": decision.component,
            "reason": decision.reason.value,
            "at": format_time(now),
        },
        "components": components,
        "restartHistory": history_to_status(history),
        "conditions": build_conditions(decision, previous.get("conditions") or [], now, generation),
    }
    if decision.phase is Phase.PAUSED:
        # Keep the last known numbers rather than blanking them while paused.
        for key in ("freshness", "freshnessSeconds", "lag", "components"):
            if key in previous:
                status[key] = previous[key]
    return status


def error_status(
    reason: str,
    message: str,
    previous: Mapping[str, Any],
    now: datetime,
    generation: int | None,
) -> dict[str, Any]:
    """Status for a spec or workload the operator cannot act on: every condition, said why."""
    by_type = {str(c.get("type")): c for c in previous.get("conditions") or []}
    not_checked = "not checked while the Pipeline is in error"
    return {
        "phase": Phase.ERROR.value,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastCheck": format_instant(now),
        "conditions": [
            _condition(by_type, CONDITION_READY, "False", reason, message, now, generation),
            _condition(by_type, CONDITION_METRICS, "Unknown", reason, not_checked, now, generation),
            _condition(by_type, CONDITION_BUDGET, "Unknown", reason, not_checked, now, generation),
            _condition(
                by_type,
                CONDITION_PAUSED,
                "False",
                "Active",
                "spec.paused is false",
                now,
                generation,
            ),
        ],
    }
