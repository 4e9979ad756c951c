from __future__ import annotations

import json
from typing import Any

import pytest
from grafanalib._gen import DashboardEncoder

from iss_dashboards.geomap import DayNightLayer, Geomap, MarkersLayer, RouteLayer
from iss_dashboards.iss_live_dashboard import (
    FOOTPRINT_PARTS,
    POSITION_REF,
    TRACK_SEGMENTS,
    footprint_ref,
    geomap_panel,
    track_ref,
)

pytestmark = pytest.mark.unit


def _json(panel: Geomap) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(panel.to_json_data(), cls=DashboardEncoder))
    return data


def test_geomap_panel_has_the_grafana_type_and_options() -> None:
    data = _json(Geomap(title="map", layers=[MarkersLayer("Position", "A")]))

    assert data["type"] == "geomap"
    assert set(data["options"]) == {"view", "controls", "basemap", "layers", "tooltip"}
    assert data["options"]["basemap"]["type"] == "carto"


def test_each_data_layer_reads_only_its_own_query() -> None:
    data = _json(
        Geomap(title="map", layers=[MarkersLayer("Position", "P"), RouteLayer("Track", "T")])
    )

    filters = [layer["filterData"] for layer in data["options"]["layers"]]
    assert filters == [{"id": "byRefId", "options": "P"}, {"id": "byRefId", "options": "T"}]


def test_layers_locate_rows_by_latitude_and_longitude_fields() -> None:
    data = _json(Geomap(title="map", layers=[RouteLayer("Track", "T")]))

    assert data["options"]["layers"][0]["location"] == {
        "mode": "coords",
        "latitude": "latitude",
        "longitude": "longitude",
    }


def test_day_night_layer_has_no_query() -> None:
    layer = DayNightLayer().to_json_data()

    assert layer["type"] == "dayNight"
    assert "filterData" not in layer


def test_live_map_draws_every_track_segment_and_footprint_part_with_a_route_layer() -> None:
    data = _json(geomap_panel())
    ref_ids = {target["refId"] for target in data["targets"]}
    routes = {
        layer["filterData"]["options"]
        for layer in data["options"]["layers"]
        if layer["type"] == "route"
    }

    expected = {track_ref(n) for n in range(TRACK_SEGMENTS)}
    expected |= {footprint_ref(n) for n in range(FOOTPRINT_PARTS)}
    assert routes == expected
    assert ref_ids == expected | {POSITION_REF}


def test_live_map_draws_the_position_marker_above_the_track() -> None:
    layers = _json(geomap_panel())["options"]["layers"]

    assert layers[-1]["type"] == "markers"
    assert layers[-1]["filterData"]["options"] == POSITION_REF
