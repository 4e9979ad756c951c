from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from iss_dashboards import build
from iss_dashboards.catalog import DASHBOARDS

pytestmark = pytest.mark.unit


@pytest.fixture
def committed_copy(tmp_path: Path) -> Path:
    """A scratch copy of the committed JSON, so a test can edit it."""
    out = tmp_path / "generated"
    shutil.copytree(build.default_output_dir(), out)
    return out


def test_committed_json_is_what_the_code_renders() -> None:
    assert build.main(["--check"]) == 0


def test_check_fails_when_a_committed_file_was_edited_by_hand(committed_copy: Path) -> None:
    path = committed_copy / "iss-live.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["panels"][0]["title"] = "Edited in the Grafana UI"
    path.write_text(json.dumps(data, sort_keys=True, indent=2) + "\n", encoding="utf-8")

    assert build.main(["--check", "--out", str(committed_copy)]) == 1


def test_check_fails_when_only_whitespace_changed(committed_copy: Path) -> None:
    path = committed_copy / "pipeline-health.json"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")

    assert build.main(["--check", "--out", str(committed_copy)]) == 1


def test_check_fails_when_a_file_is_missing(committed_copy: Path) -> None:
    (committed_copy / "pipeline-health.json").unlink()

    assert build.main(["--check", "--out", str(committed_copy)]) == 1


def test_check_fails_on_a_json_file_no_code_renders(committed_copy: Path) -> None:
    (committed_copy / "old-dashboard.json").write_text("{}\n", encoding="utf-8")

    reasons = build.stale_files(committed_copy, build.render_all())

    assert reasons == [
        f"{committed_copy / 'old-dashboard.json'}: no dashboard code renders this file"
    ]
    assert build.main(["--check", "--out", str(committed_copy)]) == 1


def test_build_writes_every_dashboard_and_then_check_passes(tmp_path: Path) -> None:
    assert build.main(["--out", str(tmp_path)]) == 0

    assert sorted(p.name for p in tmp_path.glob("*.json")) == sorted(DASHBOARDS)
    assert build.main(["--check", "--out", str(tmp_path)]) == 0


def test_build_repairs_a_stale_file(committed_copy: Path) -> None:
    path = committed_copy / "iss-live.json"
    path.write_text("{}\n", encoding="utf-8")

    assert build.main(["--out", str(committed_copy)]) == 0

    assert path.read_text(encoding="utf-8") == (
        build.default_output_dir() / "iss-live.json"
    ).read_text(encoding="utf-8")


def test_rendering_is_deterministic() -> None:
    assert build.render_all() == build.render_all()


def test_an_invalid_dashboard_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from grafanalib import core

    def overlapping() -> core.Dashboard:
        a = core.Text(title="a", description="a", gridPos=core.GridPos(h=4, w=12, x=0, y=0))
        b = core.Text(title="b", description="b", gridPos=core.GridPos(h=4, w=12, x=6, y=2))
        return core.Dashboard(title="broken", panels=[a, b]).auto_panel_ids()

    monkeypatch.setitem(DASHBOARDS, "broken.json", overlapping)

    with pytest.raises(build.InvalidDashboardError, match="overlap"):
        build.render_all()
    assert build.main(["--check"]) == 2


def test_list_configmaps_names_every_generated_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert build.main(["--list-configmaps"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == sorted(DASHBOARDS)
