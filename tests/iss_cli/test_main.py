import pytest

from iss_cli.__main__ import parse_args, settings_from

pytestmark = pytest.mark.unit


def test_local_status_uses_the_make_up_ports_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BOOTSTRAP", "PROMETHEUS", "DSN", "NAMESPACE"):
        monkeypatch.delenv(f"ISS_TRACKER_{name}", raising=False)
    settings = settings_from(parse_args(["status", "--local"]))
    assert settings.bootstrap == "127.0.0.1:19092"
    assert settings.prometheus == "http://127.0.0.1:19090"
    assert settings.liveview_health == "http://127.0.0.1:8088/healthz"


def test_empty_option_skips_that_service() -> None:
    settings = settings_from(parse_args(["status", "--dsn", "", "--prometheus", ""]))
    assert settings.dsn is None
    assert settings.prometheus is None


def test_cluster_status_probes_only_what_was_given() -> None:
    args = parse_args(
        ["status", "--kubeconfig", "kc", "--namespace", "iss", "--prometheus", "http://p:9090"]
    )
    settings = settings_from(args)
    assert settings.namespace == "iss"
    assert settings.prometheus == "http://p:9090"
    assert settings.bootstrap is None
    assert settings.dsn is None
    assert settings.liveview_health is None


def test_local_and_namespace_cannot_be_combined() -> None:
    with pytest.raises(SystemExit):
        parse_args(["status", "--local", "--namespace", "iss"])
