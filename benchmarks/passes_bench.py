"""Pass-prediction benchmark: 1,000 satellites over one observer for 24 h, on one core.

    .venv/bin/python benchmarks/passes_bench.py [--satellites 1000] [--hours 24] [--smoke]

The catalogue is synthetic: the shipped ISS TLE with its RAAN and mean anomaly spread out by
the golden angle, checksums recomputed and every element set re-parsed (so each is valid). The
process is pinned to one CPU; the figure is its CPU time, since on a shared machine the wall
time also counts the time other processes hold that CPU (both are printed). The start is fixed
near the TLE epoch, so the figure does not depend on the date the benchmark runs. `--smoke` runs
20 satellites for 6 h, in about a second.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from iss_passes import Observer, predict_many, read_tle_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

from tests.support.benchmarks import parse_with_smoke
from tests.support.catalogue import synthetic_catalogue

REPO = Path(__file__).resolve().parent.parent
ISS_TLE = REPO / "services" / "iss_cli" / "data" / "iss-25544-2026-09-16.tle"
START = datetime(2026, 9, 16, 21, 0, tzinfo=UTC)
OBSERVER = Observer(51.4779, -0.0015, 46.0)  # Greenwich


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--satellites", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--min-elevation", type=float, default=10.0)
    args = parse_with_smoke(parser, satellites=20, hours=6.0)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    base = read_tle_file(ISS_TLE)[0]
    catalogue = synthetic_catalogue(base, args.satellites)
    end = START + timedelta(hours=args.hours)
    # The first call loads DE421 and the timescale; time that apart.
    began = time.perf_counter()
    predict_many(catalogue[:1], OBSERVER, START, end, args.min_elevation)
    warm = time.perf_counter() - began

    cpu0, began = time.process_time(), time.perf_counter()
    passes = predict_many(catalogue, OBSERVER, START, end, args.min_elevation)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu0
    total = sum(len(one) for one in passes)
    visible = sum(p.visible for one in passes for p in one)
    print(
        f"passes: {args.satellites} satellites over {OBSERVER.describe()} for {args.hours:g} h "
        f"above {args.min_elevation:g} deg, one CPU"
    )
    print(f"  first call (loads DE421 and the timescale): {warm:.2f} s")
    load = os.getloadavg()[0]
    print(f"  {total} passes ({visible} visible) in {cpu:.2f} s CPU, {wall:.2f} s wall")
    print(
        f"  {cpu / args.satellites * 1000:.2f} ms CPU per satellite (target: 1,000 in under 10 s)"
    )
    print(
        f"  load average {load:.1f} on {os.cpu_count()} CPUs: wall time above CPU time is waiting"
    )


if __name__ == "__main__":
    main()
