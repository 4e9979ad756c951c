import pytest
import requests

from iss_producer.celestrak import TleRefresher
from tests.iss_producer.fixtures import Reply, ScriptedServer

LINE1 = "1 25544U 98067A   26259.85263506  .00007068  00000+0  13566-3 0  9993"
LINE2 = "2 25544  51.6307 206.4210 0004838 147.2470 212.8820 15.49143506585961"
HOUR = 3600.0


def refresher(server: ScriptedServer) -> TleRefresher:
    return TleRefresher(server.url, 25544, interval_s=6 * HOUR, timeout_s=2.0)


@pytest.mark.unit
def test_fresh_tle_is_not_refreshed(http_server: ScriptedServer) -> None:
    assert not refresher(http_server).due(now=0.0, tle_age_s=HOUR)


@pytest.mark.unit
def test_successful_refresh_returns_the_satellite(http_server: ScriptedServer) -> None:
    http_server.responder = lambda _n: Reply(200, f"ISS (ZARYA)\n{LINE1}\n{LINE2}\n".encode())
    r = refresher(http_server)
    assert r.due(now=0.0, tle_age_s=7 * HOUR)
    record = r.fetch(requests.Session(), now=0.0)
    assert record is not None
    assert record.norad_id == 25544
    assert record.line2 == LINE2


@pytest.mark.unit
@pytest.mark.parametrize(
    "reply",
    [Reply(403, b"Forbidden"), Reply(500, b"oops"), Reply(200, b"<html>maintenance</html>")],
    ids=["403", "500", "html"],
)
def test_failed_refresh_is_not_retried_before_a_full_interval(
    http_server: ScriptedServer, reply: Reply
) -> None:
    http_server.responder = lambda _n: reply
    r = refresher(http_server)
    session = requests.Session()
    now = 1000.0
    # The loop asks every second for a simulated six hours.
    for step in range(0, int(6 * HOUR), 60):
        if r.due(now + step, tle_age_s=7 * HOUR):
            assert r.fetch(session, now + step) is None
    assert http_server.requests == 1
    assert r.due(now + 6 * HOUR, tle_age_s=13 * HOUR)


@pytest.mark.unit
def test_unreachable_server_counts_as_one_attempt() -> None:
    r = TleRefresher("http://127.0.0.1:9/", 25544, interval_s=6 * HOUR, timeout_s=1.0)
    assert r.fetch(requests.Session(), now=0.0) is None
    assert not r.due(now=10.0, tle_age_s=7 * HOUR)
    assert r.attempts == 1
