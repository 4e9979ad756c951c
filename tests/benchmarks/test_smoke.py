"""Every benchmark still runs: each one in its smoke mode (tiny sizes), as a real process.

The figures of a smoke run mean nothing; what is checked is that the script starts its
services, runs every part and prints its figures. `benchmarks/node_bench.py --smoke` is not run
here: it needs the machine's one node address, which the suite's own node holds while the
node tests run (tests/e2e covers the same install-to-first-row path).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "benchmarks"

RUNS = [
    pytest.param("passes_bench.py", marks=pytest.mark.unit),
    pytest.param("producer_bench.py", marks=pytest.mark.services),
    pytest.param("enricher_bench.py", marks=pytest.mark.services),
    pytest.param("enricher_parts_bench.py", marks=pytest.mark.services),
    pytest.param("kafka_security_bench.py", marks=pytest.mark.services),
    pytest.param("dashboards_bench.py", marks=pytest.mark.services),
    pytest.param("liveview_latency.py", marks=pytest.mark.services),
    pytest.param("operator_bench.py", marks=pytest.mark.controlplane),
]


@pytest.mark.parametrize("script", RUNS)
def test_the_benchmark_runs_in_its_smoke_mode_and_prints_its_figures(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--smoke"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{script} --smoke exited {done.returncode}:\n{output[-4000:]}"
    assert "smoke run:" in done.stdout
    figures = done.stdout.split("smoke run:", 1)[1].splitlines()[1:]
    assert any(any(c.isdigit() for c in line) for line in figures), output[-4000:]


@pytest.mark.unit
def test_every_benchmark_has_a_smoke_mode() -> None:
    scripts = sorted(path.name for path in BENCHMARKS.glob("*.py"))
    for script in scripts:
        assert "parse_with_smoke(" in (BENCHMARKS / script).read_text(), script
    listed = {param.values[0] for param in RUNS}
    assert listed | {"node_bench.py"} == set(scripts)
