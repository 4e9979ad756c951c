"""A Grafana Geomap panel on grafanalib's Panel base (grafanalib 0.7.1 has no Geomap class).

The JSON follows Grafana's geomap panel options: ``view``, ``controls``, ``basemap``,
``layers`` and ``tooltip``. Each data layer picks its frames with a ``byRefId`` matcher, so one
panel can draw several queries: markers for the current position, route layers for the ground
track and the footprint, and the Night / Day layer.

The route layer is a beta layer in Grafana. It joins every row of the first frame it receives
into one line, in row order; a line that must not cross the antimeridian is therefore split into
one query (one frame) per segment, each drawn by its own route layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

import attr
from grafanalib import core

GEOMAP_TYPE = "geomap"
MARKER_CIRCLE = "img/icons/marker/circle.svg"


@dataclass(frozen=True)
class Location:
    """Which fields hold the coordinates (mode ``coords``)."""

    latitude: str = "latitude"
    longitude: str = "longitude"

    def to_json_data(self) -> dict[str, Any]:
        return {"mode": "coords", "latitude": self.latitude, "longitude": self.longitude}


def _style(color: str, size: float, opacity: float, line_width: float | None) -> dict[str, Any]:
    style: dict[str, Any] = {
        "color": {"fixed": color},
        "opacity": opacity,
        "size": {"fixed": size, "min": 2, "max": 15},
        "symbol": {"mode": "fixed", "fixed": MARKER_CIRCLE},
        "symbolAlign": {"horizontal": "center", "vertical": "center"},
        "rotation": {"fixed": 0, "mode": "mod", "min": -360, "max": 360},
        "textConfig": {
            "fontSize": 12,
            "textAlign": "center",
            "textBaseline": "middle",
            "offsetX": 0,
            "offsetY": 0,
        },
    }
    if line_width is not None:
        style["lineWidth"] = line_width
    return style


@dataclass(frozen=True)
class MarkersLayer:
    """One marker per row of the frames of ``ref_id``."""

    name: str
    ref_id: str
    color: str = "red"
    size: float = 8
    opacity: float = 1.0
    location: Location = field(default_factory=Location)
    tooltip: bool = True

    def to_json_data(self) -> dict[str, Any]:
        return {
            "type": "markers",
            "name": self.name,
            "config": {
                "showLegend": False,
                "style": _style(self.color, self.size, self.opacity, None),
            },
            "location": self.location.to_json_data(),
            "filterData": {"id": "byRefId", "options": self.ref_id},
            "tooltip": self.tooltip,
        }


@dataclass(frozen=True)
class RouteLayer:
    """A line through the rows of the frame of ``ref_id``, in row order (beta in Grafana)."""

    name: str
    ref_id: str
    color: str = "yellow"
    line_width: float = 2
    opacity: float = 1.0
    arrow: int = 0  # 0 none, 1 forward, -1 reverse
    location: Location = field(default_factory=Location)
    tooltip: bool = False

    def to_json_data(self) -> dict[str, Any]:
        return {
            "type": "route",
            "name": self.name,
            "config": {
                "arrow": self.arrow,
                "style": _style(self.color, self.line_width, self.opacity, self.line_width),
            },
            "location": self.location.to_json_data(),
            "filterData": {"id": "byRefId", "options": self.ref_id},
            "tooltip": self.tooltip,
        }


@dataclass(frozen=True)
class DayNightLayer:
    """Night region (and optionally the sub-solar point) at the end of the time range."""

    name: str = "Night"
    show: str = "to"
    sun: bool = True
    night_color: str = "#a7a6ba4D"

    def to_json_data(self) -> dict[str, Any]:
        return {
            "type": "dayNight",
            "name": self.name,
            "config": {"show": self.show, "sun": self.sun, "nightColor": self.night_color},
            "tooltip": False,
        }


@dataclass(frozen=True)
class CartoBasemap:
    """CARTO raster tiles; the browser fetches them from the internet."""

    theme: str = "auto"
    show_labels: bool = True

    def to_json_data(self) -> dict[str, Any]:
        return {
            "type": "carto",
            "name": "Basemap",
            "config": {"theme": self.theme, "showLabels": self.show_labels},
        }


@dataclass(frozen=True)
class MapView:
    """Initial view: ``zero`` (0°, 0°), ``coords`` or ``fit`` (fit the data layers)."""

    id: str = "zero"
    lat: float = 0
    lon: float = 0
    zoom: float = 1

    def to_json_data(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "lat": self.lat,
            "lon": self.lon,
            "zoom": self.zoom,
            "allLayers": True,
            "shared": False,
        }


Layer = MarkersLayer | RouteLayer | DayNightLayer
_PanelT = TypeVar("_PanelT")


def _attrs_panel(cls: type[_PanelT]) -> type[_PanelT]:
    """Make an attrs class of a grafanalib panel subclass.

    Applied through this function rather than as ``@attr.s`` so mypy treats the constructor like
    grafanalib's own (untyped) panels instead of one knowing only the new fields.
    """
    made: type[_PanelT] = attr.s(cls)
    return made


@_attrs_panel
class Geomap(core.Panel):  # type: ignore[misc]
    """Geomap panel: a basemap and data layers drawn over it."""

    layers: list[Layer] = attr.ib(factory=list)
    basemap: CartoBasemap = attr.ib(factory=CartoBasemap)
    view: MapView = attr.ib(factory=MapView)
    show_zoom: bool = attr.ib(default=True)
    mouse_wheel_zoom: bool = attr.ib(default=False)
    show_scale: bool = attr.ib(default=False)
    tooltip_mode: str = attr.ib(default="details")

    def to_json_data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.panel_json(
            {
                "type": GEOMAP_TYPE,
                "fieldConfig": {
                    "defaults": {
                        "color": {"mode": "thresholds"},
                        "custom": {"hideFrom": {"legend": False, "tooltip": False, "viz": False}},
                        "mappings": [],
                    },
                    "overrides": [],
                },
                "options": {
                    "view": self.view.to_json_data(),
                    "controls": {
                        "showZoom": self.show_zoom,
                        "mouseWheelZoom": self.mouse_wheel_zoom,
                        "showAttribution": True,
                        "showScale": self.show_scale,
                        "showMeasure": False,
                        "showDebug": False,
                    },
                    "basemap": self.basemap.to_json_data(),
                    "layers": [layer.to_json_data() for layer in self.layers],
                    "tooltip": {"mode": self.tooltip_mode},
                },
            }
        )
        return data
