"""`iss-tracker passes`: when a satellite passes over an observer, as a table or JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources

from iss_cli.settings import PassesSettings
from iss_cli.table import duration
from iss_passes import (
    SUN_LIMIT_DEG,
    Elements,
    ElementsError,
    Observer,
    Pass,
    as_dict,
    find,
    parse_tle_text,
    predict_passes,
    read_tle_file,
)

SHIPPED_TLE = "iss-25544-2026-09-16.tle"
# fmt: off
COMPASS = ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
           "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")
HEADER = ("RISE (UTC)", "AZ", "CULMINATION (UTC)", "MAX EL", "SET (UTC)", "AZ",
          "DURATION", "VISIBLE", "SEEN (UTC)")
# fmt: on
VISIBILITY_RULE = (
    "visible when the satellite is sunlit, the Sun is below "
    f"{SUN_LIMIT_DEG:g} degrees at the observer and the satellite is above the minimum elevation"
)


@dataclass(frozen=True, slots=True)
class Prediction:
    elements: Elements
    observer: Observer
    start: datetime
    end: datetime
    min_elevation_deg: float
    passes: list[Pass]


def load_elements(settings: PassesSettings) -> Elements:
    """The element set of `settings.norad` from the TLE file, or from the shipped ISS TLE."""
    if settings.tle_file is not None:
        return find(read_tle_file(settings.tle_file), settings.norad)
    text = resources.files("iss_cli").joinpath("data", SHIPPED_TLE).read_text("ascii")
    try:
        return find(parse_tle_text(text), settings.norad)
    except ElementsError as exc:
        raise ElementsError(f"{exc} in the shipped TLE: give one with --tle-file") from exc


def predict(settings: PassesSettings, start: datetime) -> Prediction:
    """Every pass of the window that starts at `start` (PassError on bad input)."""
    if settings.lat is None or settings.lon is None:
        raise ValueError("--lat and --lon are required (or ISS_TRACKER_LAT and ISS_TRACKER_LON)")
    observer = Observer(settings.lat, settings.lon, settings.height)
    elements = load_elements(settings)
    end = start + timedelta(hours=settings.hours)
    passes = predict_passes(
        elements,
        observer,
        start,
        end,
        settings.min_elevation,
        max_epoch_days=settings.max_tle_age_days,
    )
    return Prediction(elements, observer, start, end, settings.min_elevation, passes)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _rounded(moment: datetime) -> datetime:
    return (moment + timedelta(microseconds=500_000)).replace(microsecond=0)


def _bearing(azimuth_deg: float) -> str:
    return f"{azimuth_deg:5.1f} {COMPASS[round(azimuth_deg / 22.5) % 16]:<3}"


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def render(prediction: Prediction) -> str:
    """A readable table; times UTC to the second, angles in degrees."""
    p = prediction
    name = p.elements.name or "satellite"
    age_days = (p.start - p.elements.epoch).total_seconds() / 86400.0
    lines = [
        f"Passes of {name} (NORAD {p.elements.norad_id}) over {p.observer.describe()}",
        f"{_iso(p.start)} to {_iso(p.end)}, above {p.min_elevation_deg:g} deg; "
        f"TLE epoch {_iso(p.elements.epoch)} ({age_days:+.1f} days)",
        "",
    ]
    if not p.passes:
        lines.append("no passes in this window")
        return "\n".join(lines) + "\n"
    rows: list[tuple[str, ...]] = [
        HEADER,
    ]
    for one in p.passes:
        seen = "-"
        if one.visible_from is not None and one.visible_until is not None:
            seen = f"{_rounded(one.visible_from):%H:%M:%S}-{_rounded(one.visible_until):%H:%M:%S}"
        rows.append(
            (
                _iso(_rounded(one.rise)),
                _bearing(one.rise_azimuth_deg),
                _iso(_rounded(one.culmination)),
                f"{one.max_elevation_deg:4.1f}",
                _iso(_rounded(one.set)),
                _bearing(one.set_azimuth_deg),
                duration(one.duration_s),
                "yes" if one.visible else "no",
                seen,
            )
        )
    lines += _columns(rows)
    lines += [
        "",
        f"{sum(o.visible for o in p.passes)} of {len(p.passes)} visible: " + VISIBILITY_RULE,
    ]
    return "\n".join(lines) + "\n"


def as_json(prediction: Prediction) -> str:
    p = prediction
    body = {
        "satellite": {
            "norad_id": p.elements.norad_id,
            "name": p.elements.name,
            "tle_epoch": p.elements.epoch.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        },
        "observer": {
            "latitude_deg": p.observer.latitude_deg,
            "longitude_deg": p.observer.longitude_deg,
            "height_m": p.observer.height_m,
        },
        "start": p.start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "end": p.end.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "min_elevation_deg": p.min_elevation_deg,
        "visibility_rule": VISIBILITY_RULE,
        "passes": [as_dict(one) for one in p.passes],
    }
    return json.dumps(body, indent=2) + "\n"
