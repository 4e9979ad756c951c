"""The stack's own dockerd: it starts on its own socket and leaves nothing behind when stopped."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from iss_devstack.docker import Docker, ensure_installed
from iss_devstack.errors import DevstackError
from iss_devstack.images import ref
from iss_devstack.settings import DevstackSettings

pytestmark = pytest.mark.docker


def interfaces() -> set[str]:
    return set(os.listdir("/sys/class/net"))


def iptables_rules() -> str:
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True, check=False)
    # Counters move with any traffic; the rules themselves must not.
    return "\n".join(line for line in rules.stdout.splitlines() if not line.startswith(("#", ":")))


def processes_under(root: Path) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(root) in cmdline:
            found.append(f"{pid}: {cmdline}")
    return found


@pytest.fixture
def private_engine(tmp_path: Path, docker_engine: Docker) -> Docker:
    """A second engine with its own state directory (the session's engine stays untouched)."""
    settings = DevstackSettings(state_dir=tmp_path / "state", cache_dir=tmp_path / "cache")
    return Docker(settings, version=ensure_installed())


def test_engine_runs_a_container_and_stops_leaving_no_process_mount_interface_or_rule(
    private_engine: Docker, docker_engine: Docker, tmp_path: Path
) -> None:
    links, rules = interfaces(), iptables_rules()
    private_engine.start()
    try:
        assert private_engine.answers()
        # An image from the session's engine, moved over without a registry.
        tarball = tmp_path / "pause.tar"
        subprocess.run(
            docker_engine.argv("save", "-o", str(tarball), ref("pause")), check=True, timeout=60
        )
        subprocess.run(
            private_engine.argv("load", "-i", str(tarball)),
            check=True,
            capture_output=True,
            timeout=60,
        )
        subprocess.run(
            private_engine.argv("run", "-d", "--network=none", "--name", "held", ref("pause")),
            check=True,
            capture_output=True,
            timeout=60,
        )
        assert private_engine.mounts(), "a running container holds overlay mounts"
    finally:
        private_engine.stop()
    assert not private_engine.answers()
    assert private_engine.mounts() == []
    assert processes_under(private_engine.root) == []
    assert processes_under(private_engine.exec_root) == []
    assert interfaces() == links
    assert iptables_rules() == rules
    assert (private_engine.data_root / "image").is_dir(), "images are kept for the next start"


def test_second_start_reuses_the_running_engine(docker_engine: Docker) -> None:
    pid = docker_engine.process.pid_path.read_text()
    docker_engine.start()
    assert docker_engine.process.pid_path.read_text() == pid


def test_engine_that_does_not_answer_is_reported_with_the_fix(private_engine: Docker) -> None:
    """A live process in the pid file but no socket: nothing is started next to it."""
    stand_in = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        private_engine.root.mkdir(parents=True)
        private_engine.process.pid_path.write_text(f"{stand_in.pid}\n")
        with pytest.raises(DevstackError, match="iss-devstack docker stop"):
            private_engine.start()
        assert not private_engine.answers()
    finally:
        os.killpg(stand_in.pid, signal.SIGKILL)
        stand_in.wait()


def test_make_down_stops_the_engine_with_the_rest_of_the_stack(private_engine: Docker) -> None:
    from iss_devstack.stack import down

    private_engine.start()
    down(private_engine.settings)
    assert not private_engine.answers()
    assert private_engine.mounts() == []
    assert processes_under(private_engine.root) == []


def test_engine_killed_without_cleaning_up_is_swept_and_starts_again(
    private_engine: Docker,
) -> None:
    private_engine.start()
    pid = int(private_engine.process.pid_path.read_text())
    assert private_engine.process.popen is not None
    os.kill(pid, signal.SIGKILL)
    private_engine.process.popen.wait()
    private_engine.process.popen = None
    assert private_engine.mounts(), "a killed dockerd leaves its data root mounted"
    private_engine.start()
    assert private_engine.answers()
    private_engine.stop()
    assert private_engine.mounts() == []
    assert processes_under(private_engine.root) == []
