"""`iss-tracker passes` run as a real command, checked against the library."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from iss_passes import Observer, as_dict, from_lines, predict_passes
from tests.support.passes_reference import START, iss_lines

pytestmark = pytest.mark.unit

COMMAND = Path(sys.executable).with_name("iss-tracker")
LONDON = ["--lat", "51.5074", "--lon", "-0.1278", "--height", "20"]
FIXED_START = ["--start", START.strftime("%Y-%m-%dT%H:%M:%SZ")]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), "passes", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_json_lists_the_passes_the_library_predicts() -> None:
    result = run(*LONDON, *FIXED_START, "--hours", "24", "--min-elevation", "10", "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    expected = predict_passes(
        from_lines(*iss_lines()),
        Observer(51.5074, -0.1278, 20),
        START,
        START + timedelta(hours=24),
        10.0,
    )
    assert len(expected) >= 3
    assert body["passes"] == [as_dict(one) for one in expected]
    assert body["satellite"]["norad_id"] == 25544
    assert body["start"].startswith("2026-09-16T21:00:00")
    assert "sunlit" in body["visibility_rule"]
    assert {p["visible"] for p in body["passes"]} == {True, False}


def test_the_table_has_one_row_a_pass_with_iso_times_and_visibility() -> None:
    result = run(*LONDON, *FIXED_START)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("RISE (UTC)"))
    rows = lines[header + 1 : lines.index("", header)]
    assert "VISIBLE" in lines[header]
    assert len(rows) == 4
    for row in rows:
        datetime.strptime(row.split()[0], "%Y-%m-%dT%H:%M:%SZ")
        assert row.split()[-2] in {"yes", "no"}
    assert "1 of 4 visible" in result.stdout


def test_a_tle_file_and_norad_id_pick_the_satellite(tmp_path: Path) -> None:
    path = tmp_path / "iss.tle"
    path.write_text("ISS\n" + "\n".join(iss_lines()) + "\n")
    result = run(*LONDON, *FIXED_START, "--tle-file", str(path), "--norad", "25544", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["satellite"]["name"] == "ISS"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--lat", "95", "--lon", "0", *FIXED_START], "latitude 95.0 is outside [-90, 90]"),
        (["--lat", "51", "--lon", "0", "--tle-file", "/nonexistent.tle"], "cannot read TLE file"),
        (["--lat", "51", "--lon", "0", "--start", "2027-03-01T00:00:00Z"], "SGP4 is trusted"),
        (["--lat", "51", "--lon", "0", *FIXED_START, "--norad", "1"], "no element set for NORAD 1"),
        (["--lon", "0", *FIXED_START], "--lat and --lon are required"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], words: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("iss-tracker passes: error: ")
    assert words in result.stderr
