"""iss_passes against an independent 1 s scan, Skyfield's own search, and the edges of input."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sgp4.api import Satrec

from iss_passes import WindowError, from_lines, predict_many, predict_passes
from tests.support.passes import SITES, observer_at, the_iss, whole_passes
from tests.support.passes_reference import START, Site, iss_lines, polar_lines, scan

pytestmark = pytest.mark.unit

RISE_SET_S = 0.5
CULMINATION_S = 1.0
MAX_ELEVATION_DEG = 0.05
AZIMUTH_DEG = 0.05
VISIBLE_EDGE_S = 1.5  # the reference samples every 1 s


@pytest.mark.parametrize("name", sorted(SITES))
def test_rise_culmination_and_set_agree_with_an_independent_one_second_scan(name: str) -> None:
    site = SITES[name]
    reference = scan(site, START, 24.0, 10.0)
    ours = whole_passes(site)
    assert len(reference) >= 3
    assert len(ours) == len(reference)
    for mine, theirs in zip(ours, reference, strict=True):
        assert abs((mine.rise - theirs.rise).total_seconds()) < RISE_SET_S
        assert abs((mine.set - theirs.set).total_seconds()) < RISE_SET_S
        assert abs((mine.culmination - theirs.culmination).total_seconds()) < CULMINATION_S
        assert mine.max_elevation_deg == pytest.approx(theirs.max_el, abs=MAX_ELEVATION_DEG)
        assert mine.rise_azimuth_deg == pytest.approx(theirs.rise_az, abs=AZIMUTH_DEG)
        assert mine.set_azimuth_deg == pytest.approx(theirs.set_az, abs=AZIMUTH_DEG)
        assert mine.duration_s == pytest.approx((theirs.set - theirs.rise).total_seconds(), abs=3)


@pytest.mark.parametrize("name", sorted(SITES))
def test_visibility_agrees_with_an_independent_sun_and_shadow(name: str) -> None:
    site = SITES[name]
    ours, reference = whole_passes(site), scan(site, START, 24.0, 10.0)
    assert [p.visible for p in ours] == [r.visible for r in reference]
    for mine, theirs in zip(ours, reference, strict=True):
        if theirs.visible_from is None or theirs.visible_until is None:
            continue
        assert mine.visible_from is not None
        assert mine.visible_until is not None
        assert abs((mine.visible_from - theirs.visible_from).total_seconds()) < VISIBLE_EDGE_S
        assert abs((mine.visible_until - theirs.visible_until).total_seconds()) < VISIBLE_EDGE_S


def test_the_checked_windows_hold_both_visible_and_invisible_passes() -> None:
    flags = [p.visible for site in SITES.values() for p in whole_passes(site)]
    assert True in flags
    assert False in flags


def test_passes_agree_with_skyfields_own_event_search() -> None:
    from skyfield.api import EarthSatellite, wgs84

    from iss_passes import sky

    site = SITES["london"]
    ts = sky.timescale()
    satellite = EarthSatellite(*iss_lines(), ts=ts)
    place = wgs84.latlon(site.lat, site.lon, site.height_m)
    end = START + timedelta(hours=24)
    times, kinds = satellite.find_events(place, ts.from_datetime(START), ts.from_datetime(end), 10)
    rises = [t.utc_datetime() for t, k in zip(times, kinds, strict=True) if k == 0]
    sets = [t.utc_datetime() for t, k in zip(times, kinds, strict=True) if k == 2]
    ours = whole_passes(site)
    assert len(ours) == len(rises) == len(sets)
    for mine, rise, set_ in zip(ours, rises, sets, strict=True):
        assert abs((mine.rise - rise).total_seconds()) < 1.0
        assert abs((mine.set - set_).total_seconds()) < 1.0


def test_a_pass_under_way_at_the_start_is_reported_whole() -> None:
    whole = whole_passes(SITES["london"])[-1]
    start = whole.culmination
    london = observer_at(SITES["london"])
    found = predict_passes(the_iss(), london, start, start + timedelta(hours=1))  # type: ignore[arg-type]
    assert found[0].rise < start
    assert abs((found[0].rise - whole.rise).total_seconds()) < 0.05
    assert abs((found[0].set - whole.set).total_seconds()) < 0.05


def test_an_sgp4_model_gives_the_same_passes_as_its_lines() -> None:
    observer = observer_at(SITES["sydney"])
    end = START + timedelta(hours=12)
    from_model = predict_passes(Satrec.twoline2rv(*iss_lines()), observer, START, end)
    assert from_model == predict_passes(the_iss(), observer, START, end)  # type: ignore[arg-type]


def test_many_satellites_get_each_its_own_passes() -> None:
    observer = observer_at(SITES["boulder"])
    end = START + timedelta(hours=12)
    line1, line2 = iss_lines()
    together = predict_many([the_iss(), Satrec.twoline2rv(line1, line2)], observer, START, end)  # type: ignore[list-item]
    assert together[0] == together[1] == predict_passes(the_iss(), observer, START, end)  # type: ignore[arg-type]


def test_a_window_far_from_the_epoch_is_refused() -> None:
    far = START + timedelta(days=31)
    with pytest.raises(WindowError, match="days from the window"):
        predict_passes(the_iss(), observer_at(SITES["london"]), far, far + timedelta(hours=1))  # type: ignore[arg-type]


def test_an_empty_or_naive_window_is_refused() -> None:
    observer = observer_at(SITES["london"])
    with pytest.raises(WindowError):
        predict_passes(the_iss(), observer, START, START)  # type: ignore[arg-type]
    with pytest.raises(WindowError):
        predict_passes(the_iss(), observer, START.replace(tzinfo=None), START + timedelta(hours=1))  # type: ignore[arg-type]


def test_prediction_opens_no_network_connection() -> None:
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise AssertionError('network touched')\n"
        "socket.socket.connect = refuse\n"
        "socket.socket.connect_ex = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from tests.support.passes import SITES, whole_passes\n"
        "assert whole_passes(SITES['london'])\n"
        "print('offline ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "offline ok" in result.stdout


POLAR_CASES = {
    "tromso-0deg": (Site(69.6496, 18.9560, 10.0), 0.0),
    "tromso-30deg": (Site(69.6496, 18.9560, 10.0), 30.0),
    "singapore-5deg": (Site(1.3521, 103.8198, 15.0), 5.0),
}


@pytest.mark.parametrize("case", sorted(POLAR_CASES))
def test_a_polar_orbit_agrees_with_the_scan_down_to_grazing_passes(case: str) -> None:
    site, min_el = POLAR_CASES[case]
    lines = polar_lines()
    end = START + timedelta(hours=24)
    reference = scan(site, START, 24.0, min_el, lines)
    found = predict_passes(from_lines(*lines), observer_at(site), START, end, min_el)
    ours = [p for p in found if p.rise >= START and p.set <= end]
    assert len(reference) >= 2
    assert len(ours) == len(reference)
    for mine, theirs in zip(ours, reference, strict=True):
        assert abs((mine.rise - theirs.rise).total_seconds()) < RISE_SET_S
        assert abs((mine.set - theirs.set).total_seconds()) < RISE_SET_S
        assert abs((mine.culmination - theirs.culmination).total_seconds()) < CULMINATION_S
        assert mine.max_elevation_deg == pytest.approx(theirs.max_el, abs=MAX_ELEVATION_DEG)
        assert mine.visible == theirs.visible
