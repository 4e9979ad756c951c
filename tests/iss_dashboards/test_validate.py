from __future__ import annotations

import copy
from typing import Any

import pytest

from iss_dashboards import validate
from iss_dashboards.defaults import GRID_COLUMNS, POSTGRES_UID, PROMETHEUS_UID

from .fixtures import generated

pytestmark = pytest.mark.unit

DASHBOARDS = generated()


@pytest.fixture(params=sorted(DASHBOARDS))
def dashboard(request: pytest.FixtureRequest) -> dict[str, Any]:
    return copy.deepcopy(DASHBOARDS[request.param])


def test_generated_panel_ids_are_unique(dashboard: dict[str, Any]) -> None:
    ids = [panel["id"] for panel in validate.panels(dashboard)]

    assert len(ids) == len(set(ids))
    assert validate.check_panel_ids(dashboard) == []


def test_generated_panels_fit_the_grid_without_overlapping(dashboard: dict[str, Any]) -> None:
    for panel in dashboard["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] >= 0
        assert pos["w"] >= 1
        assert pos["x"] + pos["w"] <= GRID_COLUMNS
    assert validate.check_grid(dashboard) == []


def test_generated_datasource_references_are_only_the_provisioned_ones(
    dashboard: dict[str, Any],
) -> None:
    variables = {
        v["name"]: v["current"]["value"]
        for v in dashboard["templating"]["list"]
        if v["type"] == "datasource"
    }

    assert set(variables.values()) <= {POSTGRES_UID, PROMETHEUS_UID}
    assert validate.check_datasources(dashboard) == []


def test_generated_panels_are_described_and_have_distinct_queries(
    dashboard: dict[str, Any],
) -> None:
    assert validate.check_panels_explained(dashboard) == []


def test_generated_dashboards_refresh_every_five_seconds(dashboard: dict[str, Any]) -> None:
    assert dashboard["refresh"] == "5s"
    assert "5s" in dashboard["timepicker"]["refresh_intervals"]


def test_duplicate_panel_ids_are_reported(dashboard: dict[str, Any]) -> None:
    dashboard["panels"][1]["id"] = dashboard["panels"][0]["id"]

    assert validate.check_panel_ids(dashboard) == [
        f"panel id {dashboard['panels'][0]['id']} is used more than once"
    ]


def test_a_panel_wider_than_the_grid_is_reported(dashboard: dict[str, Any]) -> None:
    dashboard["panels"][0]["gridPos"]["x"] = 20

    assert any("outside the grid" in p for p in validate.check_grid(dashboard))


def test_overlapping_panels_are_reported(dashboard: dict[str, Any]) -> None:
    dashboard["panels"][1]["gridPos"] = dict(dashboard["panels"][0]["gridPos"])

    assert any("overlap" in p for p in validate.check_grid(dashboard))


def test_a_hard_coded_foreign_datasource_is_reported(dashboard: dict[str, Any]) -> None:
    target = dashboard["panels"][0]["targets"][0]
    target["datasource"] = {"type": target["datasource"]["type"], "uid": "someone-elses"}

    assert any("is not provisioned" in p for p in validate.check_datasources(dashboard))


def test_a_datasource_name_instead_of_a_reference_is_reported(dashboard: dict[str, Any]) -> None:
    dashboard["panels"][0]["datasource"] = "Prometheus"

    assert any("not a {type, uid} reference" in p for p in validate.check_datasources(dashboard))


def test_an_undefined_datasource_variable_is_reported(dashboard: dict[str, Any]) -> None:
    target = dashboard["panels"][0]["targets"][0]
    target["datasource"] = {"type": target["datasource"]["type"], "uid": "${elsewhere}"}

    assert any("$elsewhere is not a" in p for p in validate.check_datasources(dashboard))


def test_a_datasource_variable_defaulting_elsewhere_is_reported(dashboard: dict[str, Any]) -> None:
    variable = next(v for v in dashboard["templating"]["list"] if v["type"] == "datasource")
    variable["current"]["value"] = "default"

    assert any("defaults to 'default'" in p for p in validate.check_datasources(dashboard))


def test_a_panel_without_description_is_reported(dashboard: dict[str, Any]) -> None:
    dashboard["panels"][0]["description"] = ""

    assert any("has no description" in p for p in validate.check_panels_explained(dashboard))
