import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from iss_producer.settings import Mode, ProducerSettings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("ISS_PRODUCER_"):
            monkeypatch.delenv(name)


@pytest.mark.unit
def test_defaults_work_offline_with_the_shipped_tle() -> None:
    settings = ProducerSettings()
    assert settings.sources == ["wheretheiss", "open-notify", "sgp4"]
    assert settings.tle_file.is_file()
    assert settings.celestrak_url is None
    assert settings.mode is Mode.SINGLE
    assert settings.metrics_port == 9101


@pytest.mark.unit
def test_environment_overrides_with_the_component_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISS_PRODUCER_SOURCES", "open-notify, sgp4")
    monkeypatch.setenv("ISS_PRODUCER_TICK_SECONDS", "0.5")
    monkeypatch.setenv("ISS_PRODUCER_KAFKA_PASSWORD", "hunter2")
    settings = ProducerSettings()
    assert settings.sources == ["open-notify", "sgp4"]
    assert settings.tick_seconds == 0.5
    assert "hunter2" not in repr(settings)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ISS_PRODUCER_SOURCES", "wheretheiss,n2yo"),
        ("ISS_PRODUCER_SOURCES", "sgp4,sgp4"),
        ("ISS_PRODUCER_SOURCES", ""),
        ("ISS_PRODUCER_TLE_REFRESH_HOURS", "0.1"),
        ("ISS_PRODUCER_TICK_SECONDS", "0"),
        ("ISS_PRODUCER_MODE", "swarm"),
    ],
)
def test_invalid_configuration_is_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        ProducerSettings()


@pytest.mark.unit
def test_every_setting_is_documented_in_the_producer_guide() -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "producer.md").read_text()
    missing = [
        name
        for name in ProducerSettings.model_fields
        if f"`ISS_PRODUCER_{name.upper()}`" not in guide
    ]
    assert missing == []
