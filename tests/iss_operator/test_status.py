from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from iss_operator.decide import ComponentReadings, Reason, RestartRecord, decide
from iss_operator.readings import Observation, Unknown, UnknownReason
from iss_operator.spec import parse_spec
from iss_operator.status import (
    MAX_CONDITION_MESSAGE,
    build_status,
    condition_reason,
    error_status,
    format_age,
    history_from_status,
    history_to_status,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 21, 15, 0, 0, tzinfo=UTC)
SPEC = parse_spec(
    {
        "prometheus": {"url": "http://127.0.0.1:9090"},
        "components": [
            {
                "name": "enricher",
                "role": "enricher",
                "workload": {"kind": "Deployment", "name": "iss-enricher"},
                "freshness": {"query": "f"},
                "lag": {"query": "l"},
            }
        ],
    }
)


def status_for(
    freshness: Observation | Unknown,
    previous: dict[str, object] | None = None,
    history: list[RestartRecord] | None = None,
) -> dict[str, object]:
    readings = {"enricher": ComponentReadings(freshness=freshness, lag=Observation(42))}
    decision = decide(readings, SPEC, history or [], NOW)
    return build_status(
        decision=decision,
        spec=SPEC,
        history=history or [],
        previous=previous or {},
        now=NOW,
        generation=3,
    )


def test_status_carries_the_printer_column_fields() -> None:
    status = status_for(Observation(4.2))
    assert status["phase"] == "Healthy"
    assert status["freshness"] == "4s"
    assert status["lag"] == 42
    assert status["restartsLastHour"] == 0
    assert status["observedGeneration"] == 3
    assert status["lastCheck"] == "2026-11-21T15:00:00.000000Z"


def test_unknown_freshness_shows_unknown_and_a_false_metrics_condition() -> None:
    status = status_for(Unknown(UnknownReason.UNREACHABLE, "refused"))
    assert status["phase"] == "Unknown"
    assert status["freshness"] == "unknown"
    conditions = {c["type"]: c for c in status["conditions"]}  # type: ignore[attr-defined]
    assert conditions["MetricsAvailable"]["status"] == "False"
    assert "refused" in conditions["MetricsAvailable"]["message"]
    assert conditions["Ready"]["status"] == "Unknown"


def test_condition_transition_time_moves_only_when_the_status_flips() -> None:
    earlier = status_for(Observation(1))
    earlier_ready = next(c for c in earlier["conditions"] if c["type"] == "Ready")  # type: ignore[attr-defined]
    earlier_ready["lastTransitionTime"] = "2026-11-21T14:00:00Z"
    same = status_for(Observation(2), previous=earlier)
    flipped = status_for(Observation(60), previous=earlier)
    ready = {c["type"]: c for c in same["conditions"]}["Ready"]  # type: ignore[attr-defined]
    assert ready["lastTransitionTime"] == "2026-11-21T14:00:00Z"
    ready = {c["type"]: c for c in flipped["conditions"]}["Ready"]  # type: ignore[attr-defined]
    assert ready["status"] == "False"
    assert ready["lastTransitionTime"] == "2026-11-21T15:00:00Z"


def test_restart_history_round_trips_through_status() -> None:
    records = [RestartRecord("enricher", NOW - timedelta(minutes=5), "EnricherStale", False)]
    assert history_from_status({"restartHistory": history_to_status(records)}) == records
    status = status_for(Observation(1), history=records)
    assert status["restartsLastHour"] == 1
    assert status["lastRestart"] == "2026-11-21T14:55:00Z"


def test_malformed_history_entries_are_ignored() -> None:
    assert history_from_status({"restartHistory": [{"component": "x"}, {"at": "bad"}]}) == []


def test_ages_read_like_kubectl() -> None:
    assert [format_age(s) for s in (None, 3.7, 192, 7500)] == ["unknown", "3s", "3m12s", "2h5m"]


def test_restart_history_keeps_sub_second_precision() -> None:
    moment = NOW + timedelta(seconds=0.987654)
    record = RestartRecord("enricher", moment, "EnricherStale")
    status = {"restartHistory": history_to_status([record])}
    assert history_from_status(status)[0].at == moment


def test_history_written_in_whole_seconds_still_reads() -> None:
    status = {"restartHistory": [{"component": "enricher", "at": "2026-11-21T15:00:00Z"}]}
    assert history_from_status(status)[0].at == NOW


def test_error_status_carries_every_condition() -> None:
    status = error_status("WorkloadNotFound", "Deployment x/y not found", {}, NOW, 2)
    conditions = {c["type"]: c for c in status["conditions"]}
    assert set(conditions) == {"Ready", "MetricsAvailable", "RestartBudgetExhausted", "Paused"}
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Ready"]["reason"] == "WorkloadNotFound"
    assert all(c["observedGeneration"] == 2 for c in conditions.values())


CONDITION_REASON = re.compile(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
CONDITION_FIELDS = {"type", "status", "reason", "message", "lastTransitionTime"}


@pytest.mark.parametrize("reason", [*(r.value for r in Reason), "RestartFailed", "NotLeader"])
def test_every_reason_the_operator_writes_is_a_valid_condition_reason(reason: str) -> None:
    status = error_status(reason, "m", {}, NOW, 2)
    assert all(CONDITION_REASON.match(c["reason"]) for c in status["conditions"])
    assert {c["reason"] for c in status["conditions"]} >= {reason}


def test_conditions_carry_every_field_metav1_condition_requires() -> None:
    for status in (status_for(Observation(1)), error_status("InvalidSpec", "x", {}, NOW, None)):
        for condition in status["conditions"]:  # type: ignore[attr-defined]
            assert set(condition) >= CONDITION_FIELDS
            assert condition["status"] in {"True", "False", "Unknown"}


def test_a_reason_with_spaces_or_punctuation_becomes_one_camel_case_word() -> None:
    assert condition_reason("restart failed: HTTP 403") == "RestartFailedHTTP403"
    assert condition_reason("403 forbidden") == "Forbidden"
    assert condition_reason("--") == "Unknown"


def test_a_message_over_the_condition_limit_is_cut_and_says_so() -> None:
    status = error_status("InvalidSpec", "x" * 100_000, {}, NOW, 1)
    message = status["conditions"][0]["message"]
    assert len(message) == MAX_CONDITION_MESSAGE
    assert message.endswith("[cut]")


def test_an_unreadable_transition_time_from_an_older_status_is_replaced() -> None:
    earlier = status_for(Observation(1))
    for condition in earlier["conditions"]:  # type: ignore[attr-defined]
        condition["lastTransitionTime"] = None
    again = status_for(Observation(2), previous=earlier)
    ready = {c["type"]: c for c in again["conditions"]}["Ready"]  # type: ignore[attr-defined]
    assert ready["lastTransitionTime"] == "2026-11-21T15:00:00Z"
