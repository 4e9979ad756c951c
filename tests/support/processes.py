"""The pipeline's processes as the tests run them: each with its output in a log file."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

STOP_TIMEOUT_S = 20.0
"""How long `Component.stop` waits for a process to exit before it kills it."""


@dataclass
class Component:
    """One pipeline process, its output in a log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, name: str, argv: list[str], env: dict[str, str], log: Path) -> Component:
        with log.open("ab") as out:
            process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        return cls(name, process, log)

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, chars: int = 3000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} (exit {self.process.poll()}) ---\n{text[-chars:]}"

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
