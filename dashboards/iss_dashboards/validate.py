"""Checks on generated dashboard JSON that Grafana itself would not report until someone looks.

Each check returns a list of problems (empty when the dashboard is sound): panel ids, grid
positions, datasource references, descriptions and query reference ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from iss_dashboards.defaults import GRID_COLUMNS, PROVISIONED_UIDS

JSON = Mapping[str, Any]
_VARIABLE_REF = re.compile(r"^\$\{(\w+)\}$|^\$(\w+)$")


def panels(dashboard: JSON) -> Iterator[JSON]:
    """Every panel, including those nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def _datasource_refs(node: Any, where: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "datasource":
                yield where, value
            else:
                yield from _datasource_refs(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _datasource_refs(item, f"{where}[{index}]")


def check_panel_ids(dashboard: JSON) -> list[str]:
    problems: list[str] = []
    seen: set[int] = set()
    for panel in panels(dashboard):
        panel_id = panel.get("id")
        if not isinstance(panel_id, int):
            problems.append(f"panel {panel.get('title')!r} has no integer id")
        elif panel_id in seen:
            problems.append(f"panel id {panel_id} is used more than once")
        else:
            seen.add(panel_id)
    return problems


def check_grid(dashboard: JSON) -> list[str]:
    """Positions inside the 24-column grid, positive sizes, and no two panels overlapping."""
    problems: list[str] = []
    boxes: list[tuple[str, int, int, int, int]] = []
    for panel in dashboard.get("panels", []):
        title = panel.get("title")
        pos = panel.get("gridPos")
        if not isinstance(pos, Mapping) or not all(
            isinstance(pos.get(key), int) for key in ("x", "y", "w", "h")
        ):
            problems.append(f"panel {title!r} has no integer gridPos x, y, w, h")
            continue
        x, y, w, h = pos["x"], pos["y"], pos["w"], pos["h"]
        if x < 0 or y < 0 or w < 1 or h < 1 or x + w > GRID_COLUMNS:
            problems.append(f"panel {title!r} is outside the grid: {dict(pos)}")
            continue
        for other, ox, oy, ow, oh in boxes:
            if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                problems.append(f"panels {other!r} and {title!r} overlap")
        boxes.append((str(title), x, y, w, h))
    return problems


def check_datasources(dashboard: JSON) -> list[str]:
    """Only the provisioned datasources, directly by uid or through datasource variables."""
    problems: list[str] = []
    variables: dict[str, str] = {}
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "datasource":
            continue
        plugin = variable.get("query")
        name = variable.get("name")
        variables[name] = plugin
        expected = PROVISIONED_UIDS.get(plugin)
        current = variable.get("current", {}).get("value")
        if expected is None:
            problems.append(f"datasource variable ${name} is for unprovisioned type {plugin!r}")
        elif current != expected:
            problems.append(
                f"datasource variable ${name} defaults to {current!r}, not {expected!r}"
            )
    # A datasource variable's own "datasource" key is unused: it picks among datasources.
    queried = {
        **dashboard,
        "templating": {
            "list": [
                variable
                for variable in dashboard.get("templating", {}).get("list", [])
                if variable.get("type") != "datasource"
            ]
        },
    }
    for where, ref in _datasource_refs(queried, "dashboard"):
        if not isinstance(ref, Mapping):
            problems.append(f"{where}: datasource {ref!r} is not a {{type, uid}} reference")
            continue
        kind, uid = ref.get("type"), ref.get("uid")
        match = _VARIABLE_REF.match(str(uid))
        if match:
            name = match.group(1) or match.group(2)
            if variables.get(name) != kind:
                problems.append(f"{where}: ${name} is not a {kind!r} datasource variable")
        elif PROVISIONED_UIDS.get(str(kind)) != uid:
            problems.append(f"{where}: {kind!r} datasource {uid!r} is not provisioned")
    return problems


def check_panels_explained(dashboard: JSON) -> list[str]:
    """Every panel has a title and a description, and its queries have distinct refIds."""
    problems: list[str] = []
    for panel in panels(dashboard):
        title = panel.get("title")
        if panel.get("type") == "row":
            continue
        if not title:
            problems.append(f"panel {panel.get('id')} has no title")
        if not panel.get("description"):
            problems.append(f"panel {title!r} has no description")
        ref_ids = [target.get("refId") for target in panel.get("targets", [])]
        if not ref_ids:
            problems.append(f"panel {title!r} has no queries")
        if len(set(ref_ids)) != len(ref_ids) or not all(ref_ids):
            problems.append(f"panel {title!r} has missing or repeated refIds: {ref_ids}")
    return problems


def problems(dashboard: JSON) -> list[str]:
    return [
        *check_panel_ids(dashboard),
        *check_grid(dashboard),
        *check_datasources(dashboard),
        *check_panels_explained(dashboard),
    ]
