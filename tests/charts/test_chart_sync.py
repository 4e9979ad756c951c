"""The chart's copies of the CRDs and dashboards match their single sources."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.chart import CHART, REPO

pytestmark = pytest.mark.unit

SYNC = REPO / "hack" / "sync-chart-files.sh"
PAIRS = [
    pytest.param(REPO / "k8s" / "crds", CHART / "crds", "*.yaml", id="crds"),
    pytest.param(
        REPO / "dashboards" / "generated", CHART / "files" / "dashboards", "*.json", id="dashboards"
    ),
]


@pytest.mark.parametrize(("source", "copy", "pattern"), PAIRS)
def test_chart_copies_are_identical_to_their_sources(
    source: Path, copy: Path, pattern: str
) -> None:
    sources = {p.name: p.read_bytes() for p in source.glob(pattern)}
    copies = {p.name: p.read_bytes() for p in copy.glob(pattern)}
    assert sorted(copies) == sorted(sources), "run hack/sync-chart-files.sh"
    stale = [name for name in sources if sources[name] != copies[name]]
    assert stale == [], "run hack/sync-chart-files.sh"


def test_chart_ships_the_pipeline_crd() -> None:
    assert (CHART / "crds" / "pipelines.iss-tracker.io.yaml").is_file()


def fake_repo(tmp_path: Path) -> Path:
    """A repository skeleton with one CRD and one dashboard, and the sync script."""
    (tmp_path / "hack").mkdir()
    shutil.copy(SYNC, tmp_path / "hack" / SYNC.name)
    (tmp_path / "k8s" / "crds").mkdir(parents=True)
    (tmp_path / "k8s" / "crds" / "things.example.io.yaml").write_text("kind: CRD\n")
    (tmp_path / "dashboards" / "generated").mkdir(parents=True)
    (tmp_path / "dashboards" / "generated" / "board.json").write_text("{}\n")
    (tmp_path / "charts" / "iss-tracker").mkdir(parents=True)
    return tmp_path


def run_sync(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(repo / "hack" / SYNC.name), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_sync_copies_new_sources_and_removes_orphans(tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    orphan = repo / "charts" / "iss-tracker" / "crds" / "gone.example.io.yaml"
    orphan.parent.mkdir(parents=True)
    orphan.write_text("kind: CRD\n")
    assert run_sync(repo).returncode == 0
    chart = repo / "charts" / "iss-tracker"
    assert (chart / "crds" / "things.example.io.yaml").read_text() == "kind: CRD\n"
    assert (chart / "files" / "dashboards" / "board.json").read_text() == "{}\n"
    assert not orphan.exists()


def test_sync_check_fails_when_a_copy_drifts(tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    run_sync(repo)
    assert run_sync(repo, "--check").returncode == 0
    (repo / "k8s" / "crds" / "things.example.io.yaml").write_text("kind: CRD\nchanged: true\n")
    result = run_sync(repo, "--check")
    assert result.returncode == 1
    assert "charts/iss-tracker/crds/things.example.io.yaml" in result.stderr
