import pytest

from iss_liveview.origins import origin_allowed

pytestmark = pytest.mark.unit


def test_same_origin_page_may_connect() -> None:
    assert origin_allowed("http://127.0.0.1:8088", "127.0.0.1:8088", [])


def test_same_origin_ignores_case_and_trailing_slash() -> None:
    assert origin_allowed("HTTP://LocalHost:8088/", "localhost:8088", [])


def test_another_origin_is_refused_by_default() -> None:
    assert not origin_allowed("http://evil.example", "127.0.0.1:8088", [])


def test_another_port_is_another_origin() -> None:
    assert not origin_allowed("http://127.0.0.1:9999", "127.0.0.1:8088", [])


def test_null_origin_is_refused() -> None:
    assert not origin_allowed("null", "127.0.0.1:8088", [])


def test_non_web_scheme_is_refused() -> None:
    assert not origin_allowed("file://127.0.0.1:8088", "127.0.0.1:8088", [])


def test_allow_listed_origin_may_connect() -> None:
    allowed = ["https://iss.example.org"]
    assert origin_allowed("https://iss.example.org", "gateway:8088", allowed)
    assert not origin_allowed("https://other.example.org", "gateway:8088", allowed)


def test_wildcard_allows_every_origin() -> None:
    assert origin_allowed("http://anything.example", "127.0.0.1:8088", ["*"])


def test_clients_without_origin_header_are_not_browsers_and_may_connect() -> None:
    assert origin_allowed(None, "127.0.0.1:8088", [])
