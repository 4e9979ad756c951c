import pytest

from iss_liveview.__main__ import parse_args, settings_from

pytestmark = pytest.mark.unit


def test_defaults_are_the_make_up_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PORT", "METRICS_PORT", "BOOTSTRAP_SERVERS", "ALLOWED_ORIGINS"):
        monkeypatch.delenv(f"ISS_LIVEVIEW_{name}", raising=False)
    settings = settings_from(parse_args([]))
    assert (settings.port, settings.metrics_port) == (8088, 9104)
    assert settings.bootstrap_servers == "127.0.0.1:19092"
    assert settings.topic == "iss.positions.enriched"
    assert settings.allowed_origins == []


def test_options_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISS_LIVEVIEW_PORT", "9000")
    monkeypatch.setenv("ISS_LIVEVIEW_ALLOWED_ORIGINS", '["https://iss.example.org"]')
    monkeypatch.setenv("ISS_LIVEVIEW_METRICS_PORT", "null")
    settings = settings_from(parse_args(["--port", "9100", "--allowed-origin", "http://a.example"]))
    assert settings.port == 9100
    assert settings.allowed_origins == ["http://a.example"]
    assert settings.metrics_port is None
    monkeypatch.delenv("ISS_LIVEVIEW_PORT")
    assert settings_from(parse_args([])).allowed_origins == ["https://iss.example.org"]
