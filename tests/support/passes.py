"""iss_passes over the sites the pass tests check: the ISS from the bundled TLE, an observer at
each site, and the passes that rise and set inside a window."""

from __future__ import annotations

from datetime import timedelta

from iss_passes import Observer, from_lines, predict_passes
from tests.support.passes_reference import START, Site, iss_lines

SITES = {
    "london": Site(51.5074, -0.1278, 20.0),
    "sydney": Site(-33.8688, 151.2093, 50.0),
    "boulder": Site(40.0150, -105.2705, 1655.0),
}


def the_iss() -> object:
    """The ISS of the bundled TLE, as iss_passes reads two lines."""
    return from_lines(*iss_lines(), "ISS (ZARYA)")


def observer_at(site: Site) -> Observer:
    return Observer(site.lat, site.lon, site.height_m)


def whole_passes(site: Site, hours: float = 24.0, min_el: float = 10.0) -> list[object]:
    """Passes of iss_passes whose rise and set fall inside the window, as the scan reports."""
    end = START + timedelta(hours=hours)
    found = predict_passes(the_iss(), observer_at(site), START, end, min_el)
    return [p for p in found if p.rise >= START and p.set <= end]
