from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from iss_operator.decide import (
    Action,
    ComponentReadings,
    Phase,
    Reason,
    RestartRecord,
    cooldown_for,
    decide,
    prune_history,
)
from iss_operator.readings import Observation, Unknown, UnknownReason
from iss_operator.spec import (
    Component,
    PipelineSpec,
    RestartPolicy,
    Role,
    Workload,
    WorkloadKind,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 21, 15, 0, 0, tzinfo=UTC)
FRESH = Observation(2.0)
STALE = Observation(60.0)
DOWN = Unknown(UnknownReason.UNREACHABLE, "connection refused")
NO_FAILURES = Observation(0.0)
LOW_LAG = Observation(3.0)


def component(name: str, role: Role, upstream: bool = False, lag: float | None = None) -> Component:
    return Component(
        name=name,
        role=role,
        workload=Workload(WorkloadKind.DEPLOYMENT, f"iss-{name}"),
        freshness_query=f"{name}_freshness",
        freshness_threshold_seconds=15.0,
        lag_query="lag" if lag is not None else None,
        lag_threshold_messages=lag,
        upstream_query="upstream" if upstream else None,
        upstream_failure_ratio=0.9,
    )


SPEC = PipelineSpec(
    prometheus_url="http://127.0.0.1:9090",
    prometheus_timeout_seconds=5.0,
    check_interval_seconds=10.0,
    components=(
        component("producer", Role.PRODUCER, upstream=True),
        component("enricher", Role.ENRICHER, lag=1000),
    ),
    restart_policy=RestartPolicy(
        cooldown_seconds=60, max_restarts_per_hour=3, backoff_multiplier=2, max_cooldown_seconds=600
    ),
)


def seen(
    producer: Observation | Unknown = FRESH,
    enricher: Observation | Unknown = FRESH,
    failures: Observation | Unknown | None = NO_FAILURES,
    lag: Observation | Unknown | None = LOW_LAG,
) -> dict[str, ComponentReadings]:
    return {
        "producer": ComponentReadings(freshness=producer, upstream_failure_ratio=failures),
        "enricher": ComponentReadings(freshness=enricher, lag=lag),
    }


def restarted(
    minutes_ago: float, component: str = "enricher", dry_run: bool = False
) -> RestartRecord:
    return RestartRecord(component, NOW - timedelta(minutes=minutes_ago), "EnricherStale", dry_run)


def test_all_fresh_is_healthy_and_restarts_nothing() -> None:
    decision = decide(seen(), SPEC, [], NOW)
    assert decision.phase is Phase.HEALTHY
    assert decision.action is Action.NONE
    assert [v.healthy for v in decision.verdicts] == [True, True]


def test_stale_stored_data_with_fresh_raw_input_restarts_the_enricher() -> None:
    decision = decide(seen(enricher=STALE), SPEC, [], NOW)
    assert decision.phase is Phase.RECOVERING
    assert decision.action is Action.RESTART
    assert decision.component == "enricher"
    assert decision.reason is Reason.ENRICHER_STALE


def test_stored_data_stale_only_because_raw_input_is_restarts_nothing() -> None:
    # The source went quiet 12 s ago: raw input is under its threshold, stored data just over.
    decision = decide(seen(producer=Observation(12.0), enricher=Observation(16.0)), SPEC, [], NOW)
    assert decision.phase is Phase.DEGRADED
    assert decision.reason is Reason.INPUT_STALE
    assert decision.action is Action.NONE


def test_enricher_is_blamed_as_soon_as_it_is_stale_while_raw_input_is_recent() -> None:
    # Stored data just over 15 s, raw input 7 s old: the gap (8 s) is over half the threshold.
    decision = decide(seen(producer=Observation(7.0), enricher=Observation(15.5)), SPEC, [], NOW)
    assert decision.component == "enricher"
    assert decision.reason is Reason.ENRICHER_STALE


def test_producer_that_stopped_publishing_is_restarted_not_the_enricher() -> None:
    decision = decide(seen(producer=STALE, enricher=STALE), SPEC, [], NOW)
    assert decision.action is Action.RESTART
    assert decision.component == "producer"
    assert decision.reason is Reason.PRODUCER_STALE


def test_upstream_outage_is_reported_and_nothing_is_restarted() -> None:
    decision = decide(
        seen(producer=STALE, enricher=STALE, failures=Observation(1.0)), SPEC, [], NOW
    )
    assert decision.phase is Phase.DEGRADED
    assert decision.reason is Reason.UPSTREAM_OUTAGE
    assert decision.action is Action.NONE
    assert "upstream API outage" in decision.message


def test_failure_ratio_below_threshold_still_blames_the_producer() -> None:
    decision = decide(seen(producer=STALE, failures=Observation(0.5)), SPEC, [], NOW)
    assert decision.component == "producer"


def test_unknown_failure_ratio_with_a_stale_producer_restarts_nothing() -> None:
    decision = decide(seen(producer=STALE, failures=DOWN), SPEC, [], NOW)
    assert decision.phase is Phase.UNKNOWN
    assert decision.action is Action.NONE


def test_producer_without_upstream_query_is_restarted_when_stale() -> None:
    spec = replace(SPEC, components=(component("producer", Role.PRODUCER), SPEC.components[1]))
    decision = decide(seen(producer=STALE, failures=None), spec, [], NOW)
    assert decision.component == "producer"


@pytest.mark.parametrize("where", ["producer", "enricher"])
def test_missing_freshness_is_unknown_and_restarts_nothing(where: str) -> None:
    readings = seen(producer=DOWN) if where == "producer" else seen(enricher=DOWN)
    decision = decide(readings, SPEC, [], NOW)
    assert decision.phase is Phase.UNKNOWN
    assert decision.reason is Reason.METRICS_UNAVAILABLE
    assert decision.action is Action.NONE
    assert decision.metrics_missing == (where,)
    assert "connection refused" in decision.message


def test_component_not_observed_at_all_is_unknown() -> None:
    decision = decide({"producer": seen()["producer"]}, SPEC, [], NOW)
    assert decision.phase is Phase.UNKNOWN
    assert decision.metrics_missing == ("enricher",)


def test_missing_lag_does_not_hide_a_healthy_pipeline() -> None:
    decision = decide(seen(lag=Unknown(UnknownReason.NO_DATA, "no series")), SPEC, [], NOW)
    assert decision.phase is Phase.HEALTHY


def test_high_lag_with_fresh_data_is_degraded_without_restart() -> None:
    decision = decide(seen(lag=Observation(5000)), SPEC, [], NOW)
    assert decision.phase is Phase.DEGRADED
    assert decision.reason is Reason.CONSUMER_LAG_HIGH
    assert decision.action is Action.NONE


def test_other_stale_component_is_restarted_when_input_is_fresh() -> None:
    spec = replace(SPEC, components=(*SPEC.components, component("liveview", Role.OTHER)))
    readings = {**seen(), "liveview": ComponentReadings(freshness=STALE)}
    decision = decide(readings, spec, [], NOW)
    assert decision.component == "liveview"
    assert decision.reason is Reason.COMPONENT_STALE


def test_enricher_alone_is_restarted_when_no_producer_is_configured() -> None:
    spec = replace(SPEC, components=(SPEC.components[1],))
    decision = decide({"enricher": seen(enricher=STALE)["enricher"]}, spec, [], NOW)
    assert decision.component == "enricher"
    assert "no producer configured" in decision.message


def test_cooldown_holds_the_next_restart() -> None:
    decision = decide(seen(enricher=STALE), SPEC, [restarted(0.5)], NOW)
    assert decision.phase is Phase.RECOVERING
    assert decision.reason is Reason.COOLDOWN_ACTIVE
    assert decision.action is Action.NONE
    assert decision.component == "enricher"


def test_cooldown_applies_across_components() -> None:
    decision = decide(seen(producer=STALE), SPEC, [restarted(0.5, component="enricher")], NOW)
    assert decision.reason is Reason.COOLDOWN_ACTIVE


def test_restart_is_allowed_once_the_cooldown_has_passed() -> None:
    decision = decide(seen(enricher=STALE), SPEC, [restarted(1.5)], NOW)
    assert decision.action is Action.RESTART


def test_cooldown_grows_with_each_restart_in_the_hour() -> None:
    # Two restarts in the hour: the wait after the second is 60 s * 2 = 120 s.
    history = [restarted(30), restarted(1.5)]
    assert decide(seen(enricher=STALE), SPEC, history, NOW).reason is Reason.COOLDOWN_ACTIVE
    assert decide(seen(enricher=STALE), SPEC, [restarted(30), restarted(2.5)], NOW).action is (
        Action.RESTART
    )


def test_cooldown_growth_is_capped() -> None:
    policy = RestartPolicy(60, 10, 10, 300)
    assert cooldown_for(policy, 1) == timedelta(seconds=60)
    assert cooldown_for(policy, 2) == timedelta(seconds=300)
    assert cooldown_for(policy, 9) == timedelta(seconds=300)


def test_exhausted_budget_stops_restarts_and_says_so() -> None:
    history = [restarted(50), restarted(30), restarted(10)]
    decision = decide(seen(enricher=STALE), SPEC, history, NOW)
    assert decision.phase is Phase.BUDGET_EXHAUSTED
    assert decision.reason is Reason.BUDGET_EXHAUSTED
    assert decision.action is Action.NONE
    assert "3/3" in decision.message


def test_restarts_older_than_an_hour_free_the_budget() -> None:
    history = [restarted(70), restarted(65), restarted(61)]
    assert decide(seen(enricher=STALE), SPEC, history, NOW).action is Action.RESTART


def test_zero_budget_never_restarts() -> None:
    spec = replace(SPEC, restart_policy=RestartPolicy(60, 0, 2, 600))
    assert decide(seen(enricher=STALE), spec, [], NOW).phase is Phase.BUDGET_EXHAUSTED


def test_paused_looks_at_nothing_and_restarts_nothing() -> None:
    decision = decide({}, replace(SPEC, paused=True), [], NOW)
    assert decision.phase is Phase.PAUSED
    assert decision.action is Action.NONE


def test_dry_run_records_a_would_restart_instead_of_restarting() -> None:
    decision = decide(seen(enricher=STALE), replace(SPEC, dry_run=True), [], NOW)
    assert decision.action is Action.WOULD_RESTART
    assert decision.component == "enricher"
    assert decision.phase is Phase.DEGRADED
    assert "would restart Deployment iss-enricher" in decision.message


def test_dry_run_obeys_cooldown_of_its_own_would_restarts_only() -> None:
    dry = replace(SPEC, dry_run=True)
    assert decide(seen(enricher=STALE), dry, [restarted(0.5, dry_run=True)], NOW).reason is (
        Reason.COOLDOWN_ACTIVE
    )
    assert decide(seen(enricher=STALE), dry, [restarted(0.5)], NOW).action is Action.WOULD_RESTART
    assert decide(seen(enricher=STALE), SPEC, [restarted(0.5, dry_run=True)], NOW).action is (
        Action.RESTART
    )


def test_pruned_history_keeps_the_last_hour_and_the_newest_record() -> None:
    old, older = restarted(90), restarted(120)
    recent = restarted(10)
    assert prune_history([older, recent, old], NOW) == [recent]
    assert prune_history([older, old], NOW) == [old]
    assert prune_history([], NOW) == []


def test_cooldown_ends_exactly_one_cooldown_after_the_latest_restart() -> None:
    from iss_operator.decide import cooldown_ends

    at = NOW - timedelta(seconds=10.25)
    history = [RestartRecord("enricher", at, "EnricherStale")]
    ends = cooldown_ends(SPEC, history, NOW)
    assert ends == at + cooldown_for(SPEC.restart_policy, 1)
    assert cooldown_ends(SPEC, [], NOW) is None
