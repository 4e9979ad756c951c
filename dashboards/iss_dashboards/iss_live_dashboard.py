"""The "ISS live" dashboard: where the station is, where it has been, and how fresh that is."""

from __future__ import annotations

from typing import Any

from grafanalib import core

from iss_dashboards import defaults as d
from iss_dashboards import queries as q
from iss_dashboards.geomap import DayNightLayer, Geomap, MapView, MarkersLayer, RouteLayer

OUTPUT = "iss-live.json"
UID = "iss-live"

POSITION_REF = "POSITION"
# One orbit crosses the antimeridian at most once; a third segment is kept as a margin.
TRACK_SEGMENTS = 3
FOOTPRINT_PARTS = 2


def track_ref(segment: int) -> str:
    return f"TRACK{segment}"


def footprint_ref(part: int) -> str:
    return f"FOOTPRINT{part}"


def _value_text(mapping: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    options = {
        value: {"text": text, "color": color, "index": index}
        for index, (value, (text, color)) in enumerate(mapping.items())
    }
    return [{"type": "value", "options": options}]


def satellite_variable() -> core.Template:
    return core.Template(
        name=d.SATELLITE_VAR,
        label="Satellite (NORAD id)",
        query=q.satellite_ids().strip(),
        dataSource=dict(d.POSTGRES),
        default=str(d.ISS_NORAD_ID),
        refresh=core.REFRESH_ON_TIME_RANGE_CHANGE,
        sort=core.SORT_NUMERIC_ASC,
    )


def geomap_panel() -> Geomap:
    targets = [d.sql(q.current_position(), POSITION_REF)]
    targets += [d.sql(q.ground_track(n), track_ref(n)) for n in range(TRACK_SEGMENTS)]
    targets += [d.sql(q.footprint(n), footprint_ref(n)) for n in range(FOOTPRINT_PARTS)]
    layers: list[MarkersLayer | RouteLayer | DayNightLayer] = [DayNightLayer()]
    layers += [
        RouteLayer(f"Footprint ({part})", footprint_ref(part), color="blue", line_width=1)
        for part in range(FOOTPRINT_PARTS)
    ]
    layers += [
        RouteLayer(
            "Ground track" if n == 0 else f"Ground track (earlier, {n})",
            track_ref(n),
            color="yellow",
            line_width=2,
            opacity=1.0 if n == 0 else 0.7,
        )
        for n in range(TRACK_SEGMENTS)
    ]
    layers.append(MarkersLayer("Position", POSITION_REF, color="red", size=8))
    return Geomap(
        title="Position and ground track",
        description=(
            "Red marker: the newest position in the time range. Yellow: the ground track of the "
            "last orbit (93 minutes) before it, split where it crosses the antimeridian. Blue: "
            "the footprint, the ground area from which the station is above the horizon. Shaded: "
            "night on the ground at the end of the time range, with the sub-solar point."
        ),
        dataSource=dict(d.POSTGRES),
        targets=targets,
        gridPos=d.grid(0, 0, 16, 20),
        layers=layers,
        view=MapView(id="zero", zoom=1),
        thresholds=d.threshold_steps(("green", None)),
        maxDataPoints=None,
    )


def _latest_stat(
    title: str,
    description: str,
    expression: str,
    field: str,
    pos: core.GridPos,
    **kwargs: Any,
) -> core.Stat:
    return d.stat(
        title,
        description,
        d.sql(q.latest(f"{expression} AS {field}")),
        pos,
        field=field,
        **kwargs,
    )


def stat_panels() -> list[core.Panel]:
    return [
        _latest_stat(
            "Latitude",
            "Geodetic latitude of the sub-satellite point, degrees north.",
            "latitude",
            "latitude",
            d.grid(16, 0, 4, 4),
            unit="degree",
            decimals=2,
        ),
        _latest_stat(
            "Longitude",
            "Longitude of the sub-satellite point, degrees east.",
            "longitude",
            "longitude",
            d.grid(20, 0, 4, 4),
            unit="degree",
            decimals=2,
        ),
        _latest_stat(
            "Altitude",
            "Height above the WGS-84 ellipsoid.",
            "altitude_km",
            "altitude_km",
            d.grid(16, 4, 4, 4),
            unit="lengthkm",
            decimals=1,
        ),
        _latest_stat(
            "Orbital speed",
            "Inertial speed of the station (about 27,600 km/h), not its speed over the ground.",
            "orbital_speed_kmh",
            "orbital_speed_kmh",
            d.grid(20, 4, 4, 4),
            unit="velocitykmh",
            decimals=0,
        ),
        _latest_stat(
            "Ground speed",
            "Speed of the sub-satellite point over the ground (about 24,800 km/h), from the "
            "previous position.",
            "ground_speed_kmh",
            "ground_speed_kmh",
            d.grid(16, 8, 4, 4),
            unit="velocitykmh",
            decimals=0,
        ),
        _latest_stat(
            "Source",
            "Which source produced the newest position: wheretheiss, open-notify or sgp4 "
            "(propagated from a TLE when the live APIs are down).",
            "source",
            "source",
            d.grid(20, 8, 4, 4),
        ),
        _latest_stat(
            "Station in sunlight",
            "Whether the station itself is outside Earth's shadow. It can be sunlit while the "
            "ground below it is in night.",
            "CASE WHEN satellite_sunlit THEN 'sunlit' WHEN NOT satellite_sunlit THEN 'eclipsed' "
            "ELSE 'unknown' END",
            "satellite_light",
            d.grid(16, 12, 4, 4),
            mappings=_value_text(
                {
                    "sunlit": ("Sunlit", "yellow"),
                    "eclipsed": ("Eclipsed", "blue"),
                    "unknown": ("Unknown", "text"),
                }
            ),
        ),
        _latest_stat(
            "Ground below",
            "Whether the sun is above the horizon at the sub-satellite point.",
            "CASE WHEN ground_daylight THEN 'day' ELSE 'night' END",
            "ground_light",
            d.grid(20, 12, 4, 4),
            mappings=_value_text({"day": ("Day", "yellow"), "night": ("Night", "purple")}),
        ),
        d.stat(
            "Data freshness",
            "Age of the newest stored position, whatever the time range. Red from "
            f"{d.FRESHNESS_THRESHOLD_SECONDS:g} s: the operator's default threshold for "
            "restarting the component at fault.",
            d.sql(q.freshness()),
            d.grid(16, 16, 8, 4),
            field="age_seconds",
            unit="s",
            decimals=1,
            steps=d.FRESHNESS_STEPS,
            color_mode="background",
        ),
    ]


def series_panels() -> list[core.Panel]:
    return [
        d.timeseries(
            "Altitude range",
            "Lowest and highest altitude per interval, from the one-minute aggregates "
            "(positions_1m). The ISS flies at about 410-440 km.",
            [d.sql(q.altitude_series(), fmt="time_series")],
            d.grid(0, 20, 12, 8),
            unit="lengthkm",
            legend_calcs=["min", "max"],
        ),
        d.timeseries(
            "Speeds",
            "Mean orbital (inertial) speed and ground speed per interval, from the one-minute "
            "aggregates. The gap between them is the Earth's rotation and the orbit's height.",
            [d.sql(q.speed_series(), fmt="time_series")],
            d.grid(12, 20, 12, 8),
            unit="velocitykmh",
            legend_calcs=["mean"],
        ),
    ]


def build() -> core.Dashboard:
    return d.dashboard(
        title="ISS live",
        uid=UID,
        description="Position, ground track, footprint and telemetry of the tracked satellite.",
        tags=["iss"],
        panels=[geomap_panel(), *stat_panels(), *series_panels()],
        variables=[d.postgres_variable(), satellite_variable()],
        time_from="now-2h",
    )
