"""`iss-devstack`: install, start and stop the local stack."""

from __future__ import annotations

import argparse
import sys

from iss_devstack.errors import DevstackError
from iss_devstack.progress import say
from iss_devstack.settings import DevstackSettings


def install(settings: DevstackSettings, *, controlplane: bool, browser: bool) -> None:
    """Fetch and build everything the stack and the tests need, each cached by version."""
    from iss_devstack import kafka, postgres, prometheus

    kafka.ensure_installed(settings)
    postgres.ensure_installed(settings)
    prometheus.ensure_installed()
    if controlplane:
        from iss_devstack.gobuild import ensure_binaries

        ensure_binaries(settings)
    if browser:
        from iss_devstack.apt import ensure_packages

        ensure_packages(["chromium", "chromium-driver"], provides="/usr/bin/chromium")
    say("everything is installed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="iss-devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    setup = commands.add_parser("install", help="install and build what the stack and tests need")
    setup.add_argument("--no-controlplane", action="store_true", help="skip the Kubernetes build")
    setup.add_argument("--no-browser", action="store_true", help="skip Chromium")
    commands.add_parser("up", help="start the whole pipeline locally")
    commands.add_parser("down", help="stop everything `up` started")
    commands.add_parser("reset", help="stop everything and delete the local data")
    args = parser.parse_args(argv)

    settings = DevstackSettings()
    try:
        if args.command == "install":
            install(settings, controlplane=not args.no_controlplane, browser=not args.no_browser)
        else:
            from iss_devstack import stack

            {"up": stack.up, "down": stack.down, "reset": stack.reset}[args.command](settings)
    except DevstackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
