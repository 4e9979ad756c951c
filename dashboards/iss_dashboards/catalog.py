"""The dashboards this project ships: generated file name -> builder."""

from __future__ import annotations

from collections.abc import Callable

from grafanalib import core

from iss_dashboards import iss_live_dashboard, pipeline_health_dashboard

DASHBOARDS: dict[str, Callable[[], core.Dashboard]] = {
    iss_live_dashboard.OUTPUT: iss_live_dashboard.build,
    pipeline_health_dashboard.OUTPUT: pipeline_health_dashboard.build,
}
