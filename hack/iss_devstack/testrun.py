"""`make test`: the full suite as six pytest processes at once.

Most of the suite's time is spent waiting (for outages to last, cooldowns to pass, pods to
roll, processes to start), so six streams share the two cores well. `stream_of` puts every
test in exactly one of them (tests/conftest.py marks each test `stream_<name>` with it):

- `machine`: the tests that own this machine's Docker engine and node address (markers
  `docker` and `node`); only one process may hold them at a time;
- `outages`: the operator's API-server and etcd outages (tests/iss_operator/test_outages.py,
  marker `soak`), minutes of waiting on a control plane of their own;
- `benchmarks`: every benchmark's smoke run (tests/benchmarks), each a process that starts
  services of its own;
- `platform`: the other tests of the operator and of the chart;
- `tooling`: the devstack's and the dashboards' tests, and the other `soak` test (three
  minutes of flapping metrics);
- `main`: everything else, the services' tests.

A stream's log is printed when it ends; the last line sums up every stream, in pytest's words.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from iss_devstack.settings import DevstackSettings

PROGRESS_SECONDS = 60.0
OUTCOMES = ("passed", "failed", "errors", "skipped", "deselected")
SUMMARY = re.compile(r"=+ (?P<body>.*\b(?:passed|failed|error|errors|skipped|deselected)\b.*) in ")
COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|deselected|xfailed|xpassed)")
NO_TESTS_COLLECTED = 5


@dataclass(frozen=True)
class Stream:
    name: str

    @property
    def markers(self) -> str:
        return f"stream_{self.name}"


STREAMS = tuple(
    Stream(name) for name in ("machine", "outages", "benchmarks", "platform", "tooling", "main")
)

PLATFORM_DIRECTORIES = frozenset({"iss_operator", "charts"})
TOOLING_DIRECTORIES = frozenset({"iss_devstack", "iss_dashboards"})


def stream_of(parts: Sequence[str], markers: Iterable[str]) -> str:
    """The stream of a test, from its file's path below tests/ and its markers."""
    marked = set(markers)
    if marked & {"docker", "node"}:
        return "machine"
    if "soak" in marked:
        return "outages" if parts[-1] == "test_outages.py" else "tooling"
    if parts[0] == "benchmarks":
        return "benchmarks"
    if parts[0] in PLATFORM_DIRECTORIES:
        return "platform"
    if parts[0] in TOOLING_DIRECTORIES:
        return "tooling"
    return "main"


@dataclass
class Running:
    stream: Stream
    process: subprocess.Popen[bytes]
    log: Path
    handle: IO[bytes]
    started: float
    counts: dict[str, int] = field(default_factory=dict)


def counts_of(text: str) -> dict[str, int]:
    """Outcome counts from pytest's closing summary line ("3 passed, 1 failed in 2.0s")."""
    found: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
    for line in reversed(text.splitlines()):
        match = SUMMARY.search(line)
        if match is None:
            continue
        for number, outcome in COUNT.findall(match.group("body")):
            key = "errors" if outcome.startswith("error") else outcome
            if key in found:
                found[key] += int(number)
        break
    return found


def closing_line(streams: Sequence[dict[str, int]]) -> str:
    """One line over every stream: errors count as failures."""
    total = {key: sum(s.get(key, 0) for s in streams) for key in OUTCOMES}
    line = f"suite: {total['passed']} passed, {total['failed'] + total['errors']} failed"
    if total["skipped"]:
        line += f", {total['skipped']} skipped"
    return line


def _start(stream: Stream, log_dir: Path, extra: Sequence[str]) -> Running:
    log = log_dir / f"{stream.name}.log"
    handle = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-m", stream.markers, *extra],
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    return Running(stream, process, log, handle, time.monotonic())


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def run(extra: Sequence[str], log_dir: Path) -> int:
    log_dir.mkdir(parents=True, exist_ok=True)
    names = ", ".join(f"{s.name} ({s.markers})" for s in STREAMS)
    print(f"==> the suite in {len(STREAMS)} streams at once: {names}", flush=True)
    print(f"==> logs: {log_dir}/<stream>.log", flush=True)
    running = [_start(stream, log_dir, extra) for stream in STREAMS]
    finished: list[Running] = []
    failed = False
    last_progress = time.monotonic()
    try:
        while running:
            time.sleep(1.0)
            for item in [r for r in running if r.process.poll() is not None]:
                running.remove(item)
                finished.append(item)
                item.handle.close()
                text = item.log.read_text(errors="replace")
                item.counts = counts_of(text)
                code = item.process.returncode
                failed = failed or code not in (0, NO_TESTS_COLLECTED)
                print(f"\n==> stream {item.stream.name}: exit {code}", flush=True)
                sys.stdout.write(text)
                sys.stdout.flush()
            now = time.monotonic()
            if running and now - last_progress >= PROGRESS_SECONDS:
                last_progress = now
                still = ", ".join(f"{r.stream.name} ({_minutes(now - r.started)})" for r in running)
                print(f"==> still running: {still}", flush=True)
    except KeyboardInterrupt:
        for item in running:
            item.process.terminate()
        for item in running:
            item.process.wait()
        raise
    print()
    for item in finished:
        print(f"==> {item.stream.name}: exit {item.process.returncode}, {item.counts}")
    print(closing_line([item.counts for item in finished]), flush=True)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m iss_devstack.testrun",
        description="Run the full suite as six pytest processes at once; extra arguments "
        "go to each pytest (e.g. -x, -k NAME).",
    )
    _, extra = parser.parse_known_args(argv)
    return run(extra, DevstackSettings().state_dir / "test-logs")


if __name__ == "__main__":
    sys.exit(main())
