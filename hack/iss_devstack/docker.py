"""A Docker engine of the stack's own: Debian's docker.io, run as a background dockerd.

There is no systemd on the build machines, so the stack starts dockerd itself, with its own
socket, data root and exec root under the state directory (keyed by the engine's version): a
system docker on the same machine is never touched. The engine creates no network: no bridge,
no iptables rules, no IP forwarding. Builds and containers use the host's network namespace
(`--network=host`) or none, so after `stop()` nothing of it is left but its data (the images).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from iss_devstack.apt import ensure_packages
from iss_devstack.errors import DevstackError
from iss_devstack.procs import Process, pid_file_alive, run, stop_pid_file
from iss_devstack.progress import say, step
from iss_devstack.settings import DevstackSettings

DOCKERD = "/usr/sbin/dockerd"
DOCKER = "/usr/bin/docker"
"""Debian's client, the engine's own version (a newer client elsewhere on PATH may differ)."""
NAMESPACE = "iss-tracker"
"""The containerd namespace, in case dockerd adopts a containerd already running."""
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes; containerd adds its own names below it


def ensure_installed() -> str:
    """The engine's version (e.g. 20.10.24), installing Debian's docker.io when missing."""
    ensure_packages(["docker.io"], provides=DOCKERD)
    out = run([DOCKERD, "--version"], what="dockerd --version", timeout=30)
    found = re.search(r"(\d+\.\d+\.\d+)", out)
    if found is None:
        raise DevstackError(f"cannot read the version of {DOCKERD} from {out.strip()!r}")
    return found.group(1)


def _short_enough(path: Path) -> Path:
    """`path`, or a private folder under the temp dir when unix sockets there would be too long."""
    if len(str(path / "containerd" / "containerd.sock.ttrpc")) < _SOCKET_PATH_MAX:
        return path
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"iss-tracker-docker-{digest}"


def mounts_under(root: Path) -> list[str]:
    """Mount points at or below `root`, deepest first."""
    prefix = str(root.resolve())
    points = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            point = line.split()[4].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def unmount_all(root: Path) -> None:
    """Unmount everything at or below `root` (lazily when a mount is busy)."""
    for point in mounts_under(root):
        result = subprocess.run(["umount", point], capture_output=True, check=False)
        if result.returncode != 0:
            subprocess.run(["umount", "--lazy", point], capture_output=True, check=False)


class Docker:
    """One dockerd of the stack: start it, use it through `argv()`/`env()`, stop it."""

    def __init__(self, settings: DevstackSettings, version: str | None = None) -> None:
        self.settings = settings
        self.version = version or ensure_installed()
        self.root = settings.state_dir / f"docker-{self.version}"
        self.data_root = self.root / "data"
        self.exec_root = _short_enough(self.root / "exec")
        self.socket = self.root / "docker.sock"
        if len(str(self.socket)) >= _SOCKET_PATH_MAX:
            self.socket = self.exec_root / "docker.sock"
        self.process = Process(
            name="dockerd",
            argv=[],
            log_path=self.root / "dockerd.log",
            pid_path=self.root / "dockerd.run.pid",
        )

    @property
    def host(self) -> str:
        """The DOCKER_HOST of this engine."""
        return f"unix://{self.socket}"

    def env(self) -> dict[str, str]:
        """Environment for a docker client talking to this engine, with BuildKit on."""
        return {"DOCKER_HOST": self.host, "DOCKER_BUILDKIT": "1"}

    def argv(self, *args: str) -> list[str]:
        """A docker client command line for this engine."""
        return [DOCKER, "--host", self.host, *args]

    def answers(self) -> bool:
        """Whether the engine answers `GET /_ping` on its socket."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(2)
                sock.connect(str(self.socket))
                sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
                reply = sock.recv(4096)
        except OSError:
            return False
        return reply.startswith(b"HTTP/1.") and reply.rstrip().endswith(b"OK")

    def dockerd_argv(self) -> list[str]:
        return [
            DOCKERD,
            f"--host={self.host}",
            f"--data-root={self.data_root}",
            f"--exec-root={self.exec_root}",
            f"--pidfile={self.root / 'dockerd.pid'}",
            f"--containerd-namespace={NAMESPACE}",
            f"--containerd-plugins-namespace={NAMESPACE}-plugins",
            "--storage-driver=overlay2",
            "--exec-opt=native.cgroupdriver=cgroupfs",
            # No network of its own: nothing to clean up after it, nothing routed off the host.
            "--bridge=none",
            "--iptables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            "--userland-proxy=false",
            "--log-level=warn",
        ]

    def start(self, timeout: float = 60.0) -> None:
        """Start the engine unless it already answers; fail with the log if it does not come up."""
        if self.answers():
            say(f"dockerd {self.version} is already running on {self.socket}")
            return
        require_root()
        if pid_file_alive(self.process.pid_path):
            raise DevstackError(
                f"a dockerd started from {self.root} is running but does not answer on "
                f"{self.socket}: run `iss-devstack docker stop` (or kill the process in "
                f"{self.process.pid_path}), then try again"
            )
        self._sweep()
        for path in (self.root, self.data_root, self.exec_root):
            path.mkdir(parents=True, exist_ok=True)
        self.process.argv = self.dockerd_argv()
        with step(f"starting dockerd {self.version} on {self.socket}"):
            self.process.start()
            self.process.wait_until(self.answers, timeout, f"it answers on {self.socket}")

    def stop(self, grace: float = 30.0) -> bool:
        """Stop the engine, then remove its runtime state and any mount it left; images stay.

        Returns whether an engine was running.
        """
        if self.process.popen is not None:
            self.process.stop(grace)
            running = True
        else:
            running = stop_pid_file(self.process.pid_path, grace)
        self._sweep()
        return running

    def _sweep(self) -> None:
        """Unmount what a dockerd that died without cleaning up left; remove its runtime files."""
        for root in {self.root, self.exec_root}:
            if root.exists():
                unmount_all(root)
        shutil.rmtree(self.exec_root, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        with contextlib.suppress(FileNotFoundError):
            (self.root / "dockerd.pid").unlink()

    def mounts(self) -> list[str]:
        """Mount points the engine holds now (none once it is stopped)."""
        found: list[str] = []
        for root in {self.root, self.exec_root}:
            if root.exists():
                found += mounts_under(root)
        return found

    def image_id(self, ref: str) -> str | None:
        """The id of a local image, or None when the engine has no image by that name."""
        result = subprocess.run(
            self.argv("image", "inspect", "--format", "{{.Id}}", ref),
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        return result.stdout.strip() if result.returncode == 0 else None

    def label(self, ref: str, key: str) -> str | None:
        """A label of a local image, or None when the image or the label is missing."""
        result = subprocess.run(
            self.argv("image", "inspect", "--format", f'{{{{index .Config.Labels "{key}"}}}}', ref),
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        value = result.stdout.strip()
        return value if result.returncode == 0 and value not in ("", "<no value>") else None


def require_root() -> None:
    if os.geteuid() != 0:
        raise DevstackError(
            "the local Docker engine runs as root (it mounts image layers): run the command "
            "with sudo, or as root"
        )


def stop_all(settings: DevstackSettings) -> list[str]:
    """Stop every engine of the stack found under the state directory; the versions stopped."""
    stopped = []
    for root in sorted(settings.state_dir.glob("docker-*")):
        engine = Docker(settings, version=root.name.removeprefix("docker-"))
        if engine.stop():
            stopped.append(engine.version)
    return stopped
