"""Starting, watching and stopping the stack's local processes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from iss_devstack.errors import DevstackError


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def run(
    argv: Sequence[str | Path],
    *,
    what: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
    timeout: float | None = None,
) -> str:
    """Run a command to completion; on failure raise with its output, naming what it was for."""
    result = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
        user=user,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-4000:]
        raise DevstackError(f"{what} failed (exit {result.returncode}):\n{output}")
    return result.stdout


@dataclass
class Process:
    """A long-running service process in its own process group, logging to a file."""

    name: str
    argv: list[str]
    log_path: Path
    pid_path: Path
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    stop_signal: signal.Signals = signal.SIGTERM
    """What asks this service to shut down (PostgreSQL's fast shutdown is SIGINT)."""
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.pid_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            self.popen = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=self.user,
            )
        finally:
            log.close()
        self.pid_path.write_text(f"{self.popen.pid}\n")

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll `ready` until it holds; fail early, with the log, if the process dies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                raise DevstackError(
                    f"{self.name} exited with {self.popen.returncode} before {what}; "
                    f"last lines of {self.log_path}:\n{tail(self.log_path)}"
                )
            try:
                if ready():
                    return
            except Exception:  # any failure of a readiness probe means "not yet"
                pass
            time.sleep(0.2)
        raise DevstackError(
            f"{self.name} did not become ready ({what}) within {timeout:.0f}s; "
            f"last lines of {self.log_path}:\n{tail(self.log_path)}"
        )

    def wait_until_interrupted(self) -> None:
        """Block until the process exits or the user presses Ctrl-C."""
        if self.popen is not None:
            with contextlib.suppress(KeyboardInterrupt):
                self.popen.wait()

    def stop(self, grace: float = 20.0) -> None:
        if self.popen is not None:
            stop_group(self.popen.pid, grace, self.stop_signal)
            self.popen.wait()
            self.popen = None
        elif self.pid_path.exists():
            stop_pid_file(self.pid_path, grace, self.stop_signal)
        self.pid_path.unlink(missing_ok=True)


def _group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(pid: int, grace: float = 20.0, sig: signal.Signals = signal.SIGTERM) -> None:
    """Signal the process group led by `pid`; SIGKILL whatever is left after `grace` seconds."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            finished = 0
        if finished == pid or not _group_alive(pid):
            break
        time.sleep(0.1)
    if _group_alive(pid):
        os.killpg(pid, signal.SIGKILL)


def pid_file_alive(pid_path: Path) -> bool:
    """Whether the process group recorded in a pid file is still running."""
    try:
        pid = int(pid_path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return False
    return _group_alive(pid)


def stop_pid_file(
    pid_path: Path, grace: float = 20.0, sig: signal.Signals = signal.SIGTERM
) -> bool:
    """Stop the process group recorded in a pid file; True if something was running."""
    try:
        pid = int(pid_path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return False
    running = _group_alive(pid)
    if running:
        stop_group(pid, grace, sig)
    pid_path.unlink(missing_ok=True)
    return running
