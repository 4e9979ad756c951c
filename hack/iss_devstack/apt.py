"""Installing Debian packages the stack needs, or saying exactly how to."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence

from iss_devstack.errors import DevstackError
from iss_devstack.procs import run
from iss_devstack.progress import step

_updated = False


def ensure_packages(packages: Sequence[str], *, provides: str) -> None:
    """Install Debian packages when `provides` (a path) is missing.

    As root the packages are installed; otherwise the error names the command that fixes it.
    """
    if os.path.exists(provides):
        return
    command = f"apt-get install -y --no-install-recommends {' '.join(packages)}"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise DevstackError(f"{provides} is missing: run `sudo apt-get update && sudo {command}`")
    global _updated
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    if not _updated:
        with step("apt-get update"):
            run(["apt-get", "update"], what="apt-get update", env=env, timeout=900)
        _updated = True
    with step(f"installing {', '.join(packages)} from Debian packages"):
        run(command.split(), what=command, env=env, timeout=1800)
    if not os.path.exists(provides):
        raise DevstackError(f"{command} succeeded but {provides} is still missing")
