"""How the generated JSON reaches Grafana: one ConfigMap per dashboard, found by its label.

Grafana's dashboard sidecar loads every ConfigMap labelled ``grafana_dashboard: "1"``; each
ConfigMap holds one generated file under a key equal to the file name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from iss_dashboards.catalog import DASHBOARDS

CONFIGMAP_LABEL = ("grafana_dashboard", "1")
CONFIGMAP_PREFIX = "iss-dashboard-"


@dataclass(frozen=True)
class DashboardConfigMap:
    """A ConfigMap (name suffix after the release name) carrying one dashboard file."""

    name: str
    key: str
    path: Path


def configmaps(generated_dir: Path) -> list[DashboardConfigMap]:
    """The ConfigMaps for the files in ``generated_dir``, in a stable order."""
    return [
        DashboardConfigMap(
            name=CONFIGMAP_PREFIX + Path(file_name).stem,
            key=file_name,
            path=generated_dir / file_name,
        )
        for file_name in sorted(DASHBOARDS)
    ]
