"""kopf wiring: one check loop per Pipeline (a kopf daemon), thin; the work is in decide.py.

The loop is a daemon rather than a timer because it must never die: each round catches every
exception, every API call in it has a deadline (kube.py), and kopf applies no patch of its own
(the loop writes status itself), so an API outage can fail a round but never the loop. A round
runs every ``spec.checkIntervalSeconds``, and once more exactly when a cooldown ends, so that a
restart waits for the cooldown to the tenth of a second.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import aiohttp
import aiohttp.web
import kopf

from iss_operator import prometheus
from iss_operator.decide import (
    Action,
    ComponentReadings,
    Decision,
    Phase,
    RestartRecord,
    cooldown_ends,
    decide,
    prune_history,
)
from iss_operator.events import EventRecorder, Involved
from iss_operator.health import Health
from iss_operator.kube import Kube, KubeError, load_credentials
from iss_operator.leader import Leadership
from iss_operator.metrics import OperatorMetrics, declare_restart_series
from iss_operator.readings import Reading, bounded
from iss_operator.restart import RestartError, restart_workload, workload_exists
from iss_operator.selector import format_selector
from iss_operator.settings import OperatorSettings
from iss_operator.spec import PipelineSpec, SpecError, parse_spec
from iss_operator.status import build_status, error_status, history_from_status, parse_time

GROUP = "iss-tracker.io"
VERSION = "v1alpha1"
PLURAL = "pipelines"

logger = logging.getLogger(__name__)

WARNING_PHASES = {Phase.DEGRADED, Phase.BUDGET_EXHAUSTED, Phase.UNKNOWN, Phase.ERROR}
DEFAULT_INTERVAL = 10.0
MAX_LAG = 1e15
"""More messages than any Kafka partition holds: a lag reading above it is not real."""

T = TypeVar("T")


class EndlessBackoffs:
    """Retry delays for kopf's requests that grow to a cap and never run out.

    kopf retries a failed request over ``settings.networking.error_backoffs`` and then lets the
    error escape; for its watch stream, an escaped 5xx (an API server starting up, or one whose
    etcd is away) ends the whole operator. With no last attempt, the watch waits the outage
    out; SIGTERM still cancels it at once. A fresh iterator per request, and no length, so kopf
    counts attempts without a total.
    """

    def __init__(self, delays: tuple[float, ...] = (1, 1, 2, 3), cap: float = 5.0) -> None:
        self.delays = delays
        self.cap = cap

    def __iter__(self) -> Iterator[float]:
        return itertools.chain(self.delays, itertools.repeat(self.cap))


def _now() -> datetime:
    return datetime.now(UTC)


def finalizer_name(lease_name: str) -> str:
    """The finalizer this operator puts on its Pipelines: named after its Lease, so unique."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", lease_name)[:63].strip("-_.") or "operator"
    return f"{GROUP}/{name}"


def default_identity() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class Runtime:
    """What all check loops share: settings, metrics, clients, health and the election."""

    settings: OperatorSettings
    metrics: OperatorMetrics
    clock: Callable[[], datetime] = _now
    health: Health = field(default_factory=Health)
    session: aiohttp.ClientSession | None = None
    kube: Kube | None = None
    events: EventRecorder | None = None
    leadership: Leadership | None = None
    # An asyncio flag: kopf waits for a threading.Event in an executor thread that then
    # holds the exit until the flag is set.
    stop_flag: asyncio.Event = field(default_factory=asyncio.Event)
    exit_code: int = 0
    loops: set[str] = field(default_factory=set)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def leading(self) -> bool:
        return self.leadership is None or self.leadership.leading

    def round_budget(self, spec: PipelineSpec | None) -> float:
        """The longest one round can take when every call runs into its deadline."""
        prometheus_timeout = spec.prometheus_timeout_seconds if spec else 5.0
        return prometheus_timeout + 5 * self.settings.kube_timeout_seconds

    @property
    def identity(self) -> str:
        return self.settings.identity or default_identity()


@dataclass
class LoopState:
    """One Pipeline's memory between rounds; status is also in the API for operator restarts."""

    status: dict[str, Any] | None = None
    generation: int | None = None
    checked_workloads: int | None = None
    missing_workload: str | None = None
    logged: str | None = None
    write_failing: bool = False


def _last_check(status: dict[str, Any]) -> datetime | None:
    text = status.get("lastCheck")
    try:
        return parse_time(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _interval(raw_spec: dict[str, Any]) -> float:
    value = raw_spec.get("checkIntervalSeconds")
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 1:
        return float(value)
    return DEFAULT_INTERVAL


async def _unless_stopped(stopped: kopf.DaemonStopped, call: Coroutine[Any, Any, T]) -> T:
    """Run ``call`` unless the operator starts exiting first: then abandon it at once.

    Abandoning cancels the request, which resets its connection, so the API server never
    applies a request it had not read yet.
    """
    if stopped:
        call.close()
        raise asyncio.CancelledError("the operator is exiting")
    task = asyncio.ensure_future(call)
    waiter = asyncio.ensure_future(stopped.wait())
    try:
        await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if not task.done():
        task.cancel()
        raise asyncio.CancelledError("the operator is exiting")
    return task.result()


async def _observe(
    session: aiohttp.ClientSession, spec: PipelineSpec, now: datetime
) -> dict[str, ComponentReadings]:
    """Ask Prometheus every query of the spec at once; implausible numbers become Unknown."""
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

    # An age can be a little negative (scrape timing, clock skew) but never older than the
    # Unix epoch: a gauge at 0 is "never", a number beyond that is not a measurement.
    max_age = now.timestamp() + 86400
    readings: dict[str, ComponentReadings] = {}
    for c in spec.components:
        freshness = take(c.freshness_query)
        lag = take(c.lag_query or "")
        ratio = take(c.upstream_query or "")
        assert freshness is not None
        readings[c.name] = ComponentReadings(
            freshness=bounded(freshness, -300.0, max_age, "age in seconds"),
            lag=bounded(lag, 0.0, MAX_LAG, "lag in messages") if lag is not None else None,
            upstream_failure_ratio=(
                bounded(ratio, 0.0, 1.0 + 1e-6, "failure ratio") if ratio is not None else None
            ),
        )
    return readings


class CheckLoop:
    """The rounds of one Pipeline, from its live kopf body."""

    def __init__(self, runtime: Runtime, body: kopf.Body, stopped: kopf.DaemonStopped) -> None:
        self.runtime = runtime
        self.body = body
        self.stopped = stopped
        self.state = LoopState()
        meta = body.metadata
        self.involved = Involved(
            api_version=f"{GROUP}/{VERSION}",
            kind="Pipeline",
            namespace=str(meta.namespace or ""),
            name=str(meta.name),
            uid=str(meta.uid),
        )
        self.pipeline = f"{self.involved.namespace}/{self.involved.name}"
        self.status_path = (
            f"/apis/{GROUP}/{VERSION}/namespaces/{self.involved.namespace}/{PLURAL}/"
            f"{self.involved.name}/status"
        )

    @property
    def key(self) -> str:
        return self.involved.uid

    async def run(self) -> None:
        runtime = self.runtime
        runtime.loops.add(self.key)
        try:
            while not self.stopped:
                raw_spec = dict(self.body.spec)
                interval = _interval(raw_spec)
                try:
                    spec: PipelineSpec | None = parse_spec(raw_spec)
                except SpecError:
                    spec = None
                max_age = runtime.settings.liveness_missed_checks * interval + runtime.round_budget(
                    spec
                )
                delay = min(interval, 1.0)
                progressed = True
                if runtime.leading:
                    started = runtime.clock()
                    try:
                        delay = await self.round(started)
                    except asyncio.CancelledError:
                        if self.stopped:
                            break
                        raise
                    except Exception:
                        # Outages and refusals are handled inside the round: what raises here
                        # is a defect, and a loop that raises every time is not alive.
                        logger.exception("check of %s failed; next in %gs", self.pipeline, interval)
                        delay = interval
                        progressed = False
                if progressed or self.key not in runtime.health.beats:
                    runtime.health.beat(self.key, max_age)  # the first beat starts the clock
                await self.stopped.wait(max(delay, 0.0))
        finally:
            runtime.loops.discard(self.key)
            runtime.health.forget(self.key)
            if runtime.events is not None:
                runtime.events.forget(self.key)

    def _previous(self, generation: int | None) -> dict[str, Any]:
        """The newest status: our own last write, unless the API has a newer one."""
        from_api = dict(self.body.status)
        remembered = self.state.status
        if (
            remembered is not None
            and self.state.generation == generation
            and (_last_check(remembered) or datetime.min.replace(tzinfo=UTC))
            >= (_last_check(from_api) or datetime.min.replace(tzinfo=UTC))
        ):
            return remembered
        return from_api

    async def _write(self, status: dict[str, Any], generation: int | None) -> None:
        """PATCH the status subresource; a failure is logged once per outage, never raised."""
        self.state.status = status
        self.state.generation = generation
        kube = self.runtime.kube
        assert kube is not None
        try:
            await _unless_stopped(
                self.stopped, kube.merge_patch(self.status_path, {"status": status})
            )
        except KubeError as exc:
            if not self.state.write_failing:
                logger.warning("status of %s not written: %s", self.pipeline, exc)
            self.state.write_failing = True
            return
        if self.state.write_failing:
            logger.warning("status of %s written again", self.pipeline)
        self.state.write_failing = False

    async def _event(self, kind: str, reason: str, message: str, now: datetime) -> None:
        if self.runtime.events is not None:
            await _unless_stopped(
                self.stopped, self.runtime.events.post(self.involved, kind, reason, message, now)
            )

    def _log_once(self, level: int, message: str) -> None:
        if self.state.logged != message:
            logger.log(level, "%s: %s", self.pipeline, message)
        self.state.logged = message

    async def _error(
        self,
        reason: str,
        message: str,
        previous: dict[str, Any],
        now: datetime,
        generation: int | None,
    ) -> None:
        self._log_once(logging.ERROR, message)
        if previous.get("phase") != Phase.ERROR.value or previous.get("message") != message:
            await self._event("Warning", reason, message, now)
        new = error_status(reason, message, previous, now, generation)
        if previous.get("restartHistory"):
            new["restartHistory"] = previous["restartHistory"]
        await self._write(new, generation)
        self.runtime.metrics.checks.labels(self.pipeline, "error").inc()

    async def round(self, now: datetime) -> float:
        """One check; returns the seconds until the next one."""
        raw_spec = dict(self.body.spec)
        generation = self.body.metadata.get("generation")
        interval = _interval(raw_spec)
        previous = self._previous(generation)
        started = time.perf_counter()
        try:
            spec = parse_spec(raw_spec)
        except SpecError as exc:
            await self._error("InvalidSpec", str(exc), previous, now, generation)
            return interval
        wait = self._not_due(spec, previous, generation, interval, now)
        if wait is not None:
            return wait
        if await self._workload_missing(spec, previous, now, generation):
            return interval

        history = history_from_status(previous)
        declare_restart_series(self.runtime.metrics, self.pipeline, spec.components)
        observations: dict[str, ComponentReadings] = {}
        if not spec.paused:
            assert self.runtime.session is not None
            observations = await _observe(self.runtime.session, spec, now)
        decision = decide(observations, spec, history, now)
        self.runtime.metrics.decision_seconds.observe(time.perf_counter() - started)

        restarted, failure = await self._act(spec, decision, now)
        if failure is not None and failure.reason == "WorkloadNotFound":
            self.state.missing_workload = str(failure)
            await self._error(failure.reason, str(failure), previous, now, generation)
            return interval
        if restarted is not None:
            history.append(restarted)
        history = prune_history(history, now)
        await self._report(spec, decision, history, previous, now, generation, restarted, failure)

        wake = now + timedelta(seconds=interval)
        ends = cooldown_ends(spec, history, now)
        if decision.component is not None and ends is not None and now < ends < wake:
            wake = ends
        return (wake - self.runtime.clock()).total_seconds()

    def _not_due(
        self,
        spec: PipelineSpec,
        previous: dict[str, Any],
        generation: int | None,
        interval: float,
        now: datetime,
    ) -> float | None:
        """Seconds to wait when this round has nothing to do; None when it is due."""
        last = _last_check(previous)
        if (
            self.state.status is None  # the first round after an operator start
            and last is not None
            and previous.get("observedGeneration") == generation
            and now - last < timedelta(seconds=interval - 0.05)
        ):
            return (last + timedelta(seconds=interval) - now).total_seconds()
        if spec.paused and previous.get("phase") == Phase.PAUSED.value:
            return interval
        return None

    async def _workload_missing(
        self, spec: PipelineSpec, previous: dict[str, Any], now: datetime, generation: int | None
    ) -> bool:
        """Whether a component's workload is missing (reported as an Error); checked once per
        generation, and every round while one is missing."""
        if spec.paused or (
            self.state.checked_workloads == generation and not self.state.missing_workload
        ):
            return False
        missing = await self._missing_workload(spec)
        if missing is not None:
            self.state.missing_workload = missing
            await self._error("WorkloadNotFound", missing, previous, now, generation)
            return True
        self.state.missing_workload = None
        self.state.checked_workloads = generation
        return False

    async def _act(
        self, spec: PipelineSpec, decision: Decision, now: datetime
    ) -> tuple[RestartRecord | None, RestartError | None]:
        """Carry out the decision's restart (or dry-run record): (what to add to the history,
        why the restart failed)."""
        if decision.action not in (Action.RESTART, Action.WOULD_RESTART) or not decision.component:
            return None, None
        component = spec.component(decision.component)
        record = RestartRecord(
            component=component.name,
            at=now,
            reason=(decision.fault or decision.reason).value,
            dry_run=decision.action is Action.WOULD_RESTART,
        )
        if decision.action is Action.WOULD_RESTART:
            logger.info("dry run, would restart %s in %s", component.name, self.pipeline)
            return record, None
        failure = await self._restart(spec, component.name, now)
        if failure is not None:
            return None, failure
        self.runtime.metrics.restarts.labels(self.pipeline, component.name, record.reason).inc()
        logger.warning("restarted %s in %s: %s", component.name, self.pipeline, decision.message)
        return record, None

    async def _report(
        self,
        spec: PipelineSpec,
        decision: Decision,
        history: list[RestartRecord],
        previous: dict[str, Any],
        now: datetime,
        generation: int | None,
        restarted: RestartRecord | None,
        failure: RestartError | None,
    ) -> None:
        """Write the status, post the Events and count the check."""
        new_status = build_status(
            decision=decision,
            spec=spec,
            history=history,
            previous=previous,
            now=now,
            generation=generation,
        )
        if failure is not None:
            # Not restarted: no cooldown starts, so the next check tries again.
            new_status["reason"] = failure.reason
            new_status["message"] = f"{decision.message}; restart failed: {failure}"
            self._log_once(logging.ERROR, new_status["message"])
        await self._write(new_status, generation)
        await self._post_events(previous.get("phase"), decision, restarted, failure, now)
        outcome = "error" if failure is not None else decision.phase.value.lower()
        self.runtime.metrics.checks.labels(self.pipeline, outcome).inc()

    async def _missing_workload(self, spec: PipelineSpec) -> str | None:
        kube = self.runtime.kube
        assert kube is not None
        namespace = self.involved.namespace
        for component in spec.components:
            workload = component.workload
            exists = await _unless_stopped(self.stopped, workload_exists(kube, namespace, workload))
            if exists is False:
                return (
                    f"{workload.kind.value} {namespace}/{workload.name} of component "
                    f"{component.name} not found"
                )
        return None

    async def _restart(self, spec: PipelineSpec, name: str, now: datetime) -> RestartError | None:
        kube = self.runtime.kube
        assert kube is not None
        if not self.runtime.leading:
            return RestartError("NotLeader", "this replica lost the lease before restarting")
        workload = spec.component(name).workload
        try:
            await _unless_stopped(
                self.stopped, restart_workload(kube, self.involved.namespace, workload, now)
            )
        except RestartError as exc:
            return exc
        return None

    async def _post_events(
        self,
        before: str | None,
        decision: Decision,
        restarted: RestartRecord | None,
        failure: RestartError | None,
        now: datetime,
    ) -> None:
        if restarted is not None:
            kind = "DryRunRestart" if restarted.dry_run else "Restarted"
            await self._event("Normal", kind, decision.message, now)
        if failure is not None:
            await self._event("Warning", failure.reason, str(failure), now)
        if before != decision.phase.value:
            await self._event(
                "Warning" if decision.phase in WARNING_PHASES else "Normal",
                decision.phase.value,
                f"phase {before or 'None'} -> {decision.phase.value}: {decision.message}",
                now,
            )


async def _audit_watch(runtime: Runtime) -> None:
    """Compare the Pipelines in the API with the loops here: a dead watch shows as a gap."""
    settings = runtime.settings
    path = (
        f"/apis/{GROUP}/{VERSION}/{PLURAL}"
        if settings.clusterwide
        else f"/apis/{GROUP}/{VERSION}/namespaces/{settings.namespace}/{PLURAL}"
    )
    labels = settings.pipeline_labels
    query = {"labelSelector": format_selector(labels)} if labels else None
    runtime.health.unserved_grace = 2 * settings.watch_audit_seconds
    while True:
        kube = runtime.kube
        if kube is not None:
            try:
                listed = await kube.request("GET", path, query=query)
                existing = [
                    str(item["metadata"]["uid"])
                    for item in listed.get("items") or []
                    if not item["metadata"].get("deletionTimestamp")
                ]
                runtime.health.audit(existing, runtime.loops)
                runtime.health.refusal("list-pipelines", None)
            except KubeError as exc:
                # The API away is no fault of this process; refused, the operator cannot see
                # its Pipelines at all (a Role without list or watch), and /healthz says so.
                if exc.status in (401, 403):
                    runtime.health.refusal("list-pipelines", f"{exc} (check the operator's Role)")
            except (KeyError, TypeError):
                pass  # an answer without items: nothing to compare
        runtime.health.beat(
            "watch-audit", 3 * settings.watch_audit_seconds + settings.kube_timeout_seconds
        )
        await asyncio.sleep(settings.watch_audit_seconds)


UNHEALTHY_EXIT_SECONDS = 10.0
"""How long problems must last before a process outside a pod exits (a kubelet's 3 probes)."""


async def _watchdog(runtime: Runtime, exit_when_unhealthy: bool) -> None:
    """Outside a pod nobody probes /healthz: exit non-zero instead of running on broken."""
    since: float | None = None
    while True:
        await asyncio.sleep(1.0)
        problems = runtime.health.problems()
        if not problems:
            since = None
            continue
        if since is None:
            since = time.monotonic()
            logger.error("unhealthy: %s", "; ".join(problems))
        if exit_when_unhealthy and time.monotonic() - since >= UNHEALTHY_EXIT_SECONDS:
            logger.error("unhealthy, exiting: %s", "; ".join(problems))
            runtime.exit_code = 3
            runtime.stop_flag.set()
            return


async def serve_health(runtime: Runtime, endpoint: str) -> aiohttp.web.AppRunner:
    """/healthz: 200 with what is checked, or 500 naming every loop that stopped."""
    from urllib.parse import urlsplit

    parts = urlsplit(endpoint)

    async def healthz(request: aiohttp.web.Request) -> aiohttp.web.Response:
        problems = runtime.health.problems()
        body = {
            "healthy": not problems,
            "problems": problems,
            "leading": runtime.leading,
            "pipelines": len(runtime.loops),
        }
        return aiohttp.web.json_response(body, status=500 if problems else 200)

    app = aiohttp.web.Application()
    app.add_routes([aiohttp.web.get(parts.path or "/healthz", healthz)])
    runner = aiohttp.web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    await aiohttp.web.TCPSite(runner, parts.hostname or "0.0.0.0", parts.port or 8080).start()
    return runner


def _spawn(runtime: Runtime, coro: Awaitable[None], name: str) -> None:
    async def guarded() -> None:
        await coro

    runtime.tasks.append(asyncio.create_task(guarded(), name=name))


def configure_kopf(settings: kopf.OperatorSettings, own: OperatorSettings) -> None:
    """kopf's settings for this operator: no peering or posting of its own, bounded calls."""
    settings.peering.standalone = True
    settings.peering.mandatory = False
    settings.scanning.disabled = not own.scan_crds
    # A finalizer of this operator's own: with kopf's shared default, two releases'
    # operators in one namespace would each remove the other's from Pipelines they do not
    # select, and add their own back, in an endless patch fight.
    settings.persistence.finalizer = finalizer_name(own.lease_name)
    # Our Events are aggregated (events.py); kopf would post one per log line.
    settings.posting.enabled = False
    settings.networking.request_timeout = own.kube_timeout_seconds * 2
    settings.networking.connect_timeout = own.kube_timeout_seconds
    settings.networking.error_backoffs = EndlessBackoffs()
    settings.watching.connect_timeout = own.kube_timeout_seconds
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.inactivity_timeout = 70
    settings.background.instant_exit_timeout = 0.1


async def _start(runtime: Runtime, health_runner: list[aiohttp.web.AppRunner]) -> None:
    """Open the clients and start the background tasks: leader election, the watch audit, the
    watchdog and the liveness endpoint."""
    own = runtime.settings
    try:
        runtime.kube = Kube(load_credentials(), own.kube_timeout_seconds)
    except Exception as exc:
        raise kopf.PermanentError(f"no Kubernetes credentials: {exc}") from exc
    runtime.session = aiohttp.ClientSession()
    runtime.events = EventRecorder(runtime.kube, runtime.identity)
    if not own.standalone:
        runtime.leadership = Leadership(
            runtime.kube,
            own.lease_namespace or own.namespace,
            own.lease_name,
            runtime.identity,
            lease_duration_seconds=own.lease_duration_seconds,
            renew_deadline_seconds=own.renew_deadline_seconds,
            retry_seconds=own.lease_retry_seconds,
            health=runtime.health,
        )
        _spawn(runtime, runtime.leadership.run(), "leader-election")
    _spawn(runtime, _audit_watch(runtime), "watch-audit")
    exit_when_unhealthy = own.exit_when_unhealthy
    if exit_when_unhealthy is None:
        exit_when_unhealthy = "KUBERNETES_SERVICE_HOST" not in os.environ
    _spawn(runtime, _watchdog(runtime, exit_when_unhealthy), "watchdog")
    if own.liveness_endpoint:
        health_runner.append(await serve_health(runtime, own.liveness_endpoint))


def build_registry(runtime: Runtime) -> kopf.OperatorRegistry:
    """Register the handlers on a fresh registry, configured from the runtime's settings."""
    registry = kopf.OperatorRegistry()
    health_runner: list[aiohttp.web.AppRunner] = []

    @kopf.on.startup(registry=registry)
    async def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        configure_kopf(settings, runtime.settings)
        await _start(runtime, health_runner)

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        # A fresh registry has none of kopf's default login handlers: use the same
        # credentials as the kubernetes client (in-cluster token, or $KUBECONFIG).
        info: kopf.ConnectionInfo | None = kopf.login_via_client(**kwargs)
        return info

    @kopf.on.cleanup(registry=registry)
    async def close(**_: Any) -> None:
        for task in runtime.tasks:
            task.cancel()
        if runtime.leadership is not None:
            await runtime.leadership.release(timeout_seconds=1.0)
        for runner in health_runner:
            await runner.cleanup()
        if runtime.session is not None:
            await runtime.session.close()
        if runtime.kube is not None:
            await runtime.kube.close()
        # kopf waits for its stop-flag waiter as a "hung task" for 5 s unless the flag is set.
        runtime.stop_flag.set()

    @kopf.daemon(
        GROUP,
        VERSION,
        PLURAL,
        labels=runtime.settings.pipeline_labels or None,
        registry=registry,
        cancellation_backoff=1.0,
        cancellation_timeout=1.0,
    )
    async def check(body: kopf.Body, stopped: kopf.DaemonStopped, **_: Any) -> None:
        await CheckLoop(runtime, body, stopped).run()

    return registry
