"""Enricher settings from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from iss_enricher.settings import EnricherSettings

pytestmark = pytest.mark.unit


def test_settings_come_from_iss_enricher_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISS_ENRICHER_RAW_TOPIC", "raw-x")
    monkeypatch.setenv("ISS_ENRICHER_RECOVERY_DIRECTORY", "/var/lib/enricher")
    monkeypatch.setenv("ISS_ENRICHER_KAFKA_TAIL", "false")
    settings = EnricherSettings()
    assert settings.raw_topic == "raw-x"
    assert settings.recovery_directory == Path("/var/lib/enricher")
    assert settings.kafka_tail is False


def test_the_database_dsn_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISS_ENRICHER_DATABASE_DSN", "postgresql://iss:placeholder-secret@db/iss")
    settings = EnricherSettings()
    assert "placeholder-secret" not in repr(settings)
    assert "placeholder-secret" not in str(settings.model_dump())
    assert settings.database_dsn.get_secret_value().endswith("@db/iss")


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISS_ENRICHER_WINDOW_SECONDS", "0")
    with pytest.raises(ValueError, match="window_seconds"):
        EnricherSettings()


def test_the_process_id_comes_from_the_statefulset_pod_ordinal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ISS_ENRICHER_POD_NAME", "iss-enricher-2")
    assert EnricherSettings().resolved_process_id() == 2
    monkeypatch.setenv("ISS_ENRICHER_PROCESS_ID", "1")
    assert EnricherSettings().resolved_process_id() == 1


def test_a_pod_name_without_an_ordinal_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISS_ENRICHER_POD_NAME", "iss-enricher")
    with pytest.raises(ValueError, match="ordinal"):
        EnricherSettings().resolved_process_id()
