"""kopf wiring: one timer per Pipeline, thin; the work is in decide.py and status.py.

kopf timers have a fixed interval, while each Pipeline has its own
``spec.checkIntervalSeconds``. The timer therefore ticks every ``tick_seconds`` (1 s by
default) and runs a check only when the Pipeline's interval has passed since its last check
(remembered in memory, and in ``status.lastCheck`` across operator restarts). A tick that is
not due costs no API request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import kopf
from kubernetes import client, config

from iss_operator import prometheus
from iss_operator.decide import (
    Action,
    ComponentReadings,
    Decision,
    Phase,
    RestartRecord,
    decide,
    prune_history,
)
from iss_operator.metrics import OperatorMetrics, declare_restart_series
from iss_operator.readings import Reading
from iss_operator.restart import RestartError, restart_workload
from iss_operator.settings import OperatorSettings
from iss_operator.spec import PipelineSpec, SpecError, parse_spec
from iss_operator.status import build_status, error_status, history_from_status, parse_time

GROUP = "iss-tracker.io"
VERSION = "v1alpha1"
PLURAL = "pipelines"

logger = logging.getLogger(__name__)

WARNING_PHASES = {Phase.DEGRADED, Phase.BUDGET_EXHAUSTED, Phase.UNKNOWN, Phase.ERROR}


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """What all checks share: settings, metrics, and the clients opened at startup."""

    settings: OperatorSettings
    metrics: OperatorMetrics
    clock: Callable[[], datetime] = _now
    session: aiohttp.ClientSession | None = None
    apps: client.AppsV1Api | None = None
    last_tick: float = field(default_factory=time.monotonic)


def kube_apps_api() -> client.AppsV1Api:
    """In a pod, the service account; elsewhere, $KUBECONFIG or ~/.kube/config."""
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    return client.AppsV1Api(client.ApiClient())


def _last_check(status: dict[str, Any], memo: Any) -> datetime | None:
    remembered = getattr(memo, "last_check", None)
    if isinstance(remembered, datetime):
        return remembered
    text = status.get("lastCheck")
    try:
        return parse_time(text) if isinstance(text, str) else None
    except ValueError:
        return None


async def _observe(
    session: aiohttp.ClientSession, spec: PipelineSpec
) -> dict[str, ComponentReadings]:
    """Ask Prometheus every query of the spec at once."""
    exprs: list[str] = []
    for c in spec.components:
        exprs.append(c.freshness_query)
        exprs.append(c.lag_query or "")
        exprs.append(c.upstream_query or "")
    asked = [e for e in exprs if e]
    answers = iter(
        await prometheus.query_all(
            session, spec.prometheus_url, asked, spec.prometheus_timeout_seconds
        )
    )

    def take(expr: str) -> Reading | None:
        return next(answers) if expr else None

    readings: dict[str, ComponentReadings] = {}
    for c in spec.components:
        freshness = take(c.freshness_query)
        assert freshness is not None
        readings[c.name] = ComponentReadings(
            freshness=freshness,
            lag=take(c.lag_query or ""),
            upstream_failure_ratio=take(c.upstream_query or ""),
        )
    return readings


def _post_events(
    body: kopf.Body, before: str | None, decision: Decision, restarted: RestartRecord | None
) -> None:
    if restarted is not None:
        kind = "DryRunRestart" if restarted.dry_run else "Restarted"
        kopf.event(body, type="Normal", reason=kind, message=decision.message)
    if before != decision.phase.value:
        kopf.event(
            body,
            type="Warning" if decision.phase in WARNING_PHASES else "Normal",
            reason=decision.phase.value,
            message=f"phase {before or 'None'} -> {decision.phase.value}: {decision.message}",
        )


def build_registry(runtime: Runtime) -> kopf.OperatorRegistry:
    """Register the handlers on a fresh registry, configured from the runtime's settings."""
    registry = kopf.OperatorRegistry()
    settings = runtime.settings

    @kopf.on.startup(registry=registry)
    async def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.peering.name = runtime.settings.peering_name
        settings.peering.priority = runtime.settings.priority
        settings.peering.mandatory = not runtime.settings.standalone
        settings.peering.standalone = runtime.settings.standalone
        settings.scanning.disabled = not runtime.settings.scan_crds
        settings.posting.level = logging.INFO
        if runtime.apps is None:
            try:
                runtime.apps = kube_apps_api()
            except config.ConfigException as exc:
                raise kopf.PermanentError(f"no Kubernetes credentials: {exc}") from exc
        runtime.session = aiohttp.ClientSession()

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        # A fresh registry has none of kopf's default login handlers: use the same
        # credentials as the kubernetes client (in-cluster token, or $KUBECONFIG).
        info: kopf.ConnectionInfo | None = kopf.login_via_client(**kwargs)
        return info

    @kopf.on.cleanup(registry=registry)
    async def close(**_: Any) -> None:
        if runtime.session is not None:
            await runtime.session.close()

    @kopf.on.probe(id="secondsSinceLastTick", registry=registry)
    def liveness(**_: Any) -> float:
        return round(time.monotonic() - runtime.last_tick, 3)

    @kopf.timer(GROUP, VERSION, PLURAL, interval=settings.tick_seconds, registry=registry)
    async def check(
        body: kopf.Body,
        spec: kopf.Spec,
        status: kopf.Status,
        meta: kopf.Meta,
        name: str,
        namespace: str | None,
        memo: Any,
        patch: kopf.Patch,
        **_: Any,
    ) -> None:
        runtime.last_tick = time.monotonic()
        await run_check(
            runtime, body, dict(spec), dict(status), meta, name, namespace or "", memo, patch
        )

    return registry


async def run_check(
    runtime: Runtime,
    body: kopf.Body,
    raw_spec: dict[str, Any],
    previous: dict[str, Any],
    meta: kopf.Meta,
    name: str,
    namespace: str,
    memo: Any,
    patch: kopf.Patch,
) -> None:
    """One tick for one Pipeline: a check if due, then status, Events and metrics."""
    now = runtime.clock()
    pipeline = f"{namespace}/{name}"
    generation = meta.get("generation")
    started = time.perf_counter()
    try:
        spec = parse_spec(raw_spec)
    except SpecError as exc:
        if previous.get("message") != str(exc):
            patch.status.update(error_status("InvalidSpec", str(exc), previous, now, generation))
            kopf.warn(body, reason="InvalidSpec", message=str(exc))
            runtime.metrics.checks.labels(pipeline, "error").inc()
        return

    # Our last patch may not have come back through the watch yet: trust what we wrote.
    remembered = getattr(memo, "status", None)
    if (
        isinstance(remembered, dict)
        and memo.get("generation") == generation
        and (remembered.get("lastCheck") or "") > (previous.get("lastCheck") or "")
    ):
        previous = remembered
    last = _last_check(previous, memo)
    due = last is None or now - last >= timedelta(
        seconds=spec.check_interval_seconds - runtime.settings.tick_seconds / 2
    )
    paused_and_known = spec.paused and previous.get("phase") == Phase.PAUSED.value
    if not due or paused_and_known:
        return

    history = history_from_status(previous)
    declare_restart_series(runtime.metrics, pipeline, spec.components)
    if spec.paused:
        observations: dict[str, ComponentReadings] = {}
    else:
        assert runtime.session is not None
        observations = await _observe(runtime.session, spec)
    decision = decide(observations, spec, history, now)
    runtime.metrics.decision_seconds.observe(time.perf_counter() - started)

    restarted: RestartRecord | None = None
    if decision.action in (Action.RESTART, Action.WOULD_RESTART) and decision.component:
        component = spec.component(decision.component)
        record = RestartRecord(
            component=component.name,
            at=now,
            reason=(decision.fault or decision.reason).value,
            dry_run=decision.action is Action.WOULD_RESTART,
        )
        if decision.action is Action.RESTART:
            assert runtime.apps is not None
            try:
                await restart_workload(runtime.apps, namespace, component.workload, now)
            except RestartError as exc:
                logger.error("restart of %s in %s failed: %s", component.name, pipeline, exc)
                if previous.get("reason") != exc.reason:
                    kopf.warn(body, reason=exc.reason, message=str(exc))
                new = error_status(exc.reason, str(exc), previous, now, generation)
                new["restartHistory"] = previous.get("restartHistory") or []
                patch.status.update(new)
                memo.last_check = now
                runtime.metrics.checks.labels(pipeline, "error").inc()
                return
            runtime.metrics.restarts.labels(pipeline, component.name, record.reason).inc()
            logger.warning("restarted %s in %s: %s", component.name, pipeline, decision.message)
        else:
            logger.info("dry run, would restart %s in %s", component.name, pipeline)
        restarted = record
        history.append(record)

    history = prune_history(history, now)
    new_status = build_status(
        decision=decision,
        spec=spec,
        history=history,
        previous=previous,
        now=now,
        generation=generation,
    )
    patch.status.update(new_status)
    _post_events(body, previous.get("phase"), decision, restarted)
    runtime.metrics.checks.labels(pipeline, decision.phase.value.lower()).inc()
    memo.last_check = now
    memo.status = new_status
    memo.generation = generation
