"""`iss-devstack`: install, start and stop the local stack."""

from __future__ import annotations

import argparse
import sys

from iss_devstack.errors import DevstackError
from iss_devstack.progress import say
from iss_devstack.settings import DevstackSettings


def install(
    settings: DevstackSettings, *, controlplane: bool, browser: bool, images: bool = True
) -> None:
    """Fetch and build everything the stack and the tests need, each cached by version."""
    from iss_devstack import alertmanager, kafka, postgres, prometheus

    kafka.ensure_installed(settings)
    postgres.ensure_installed(settings)
    prometheus.ensure_installed()
    alertmanager.ensure_installed()
    if controlplane:
        from iss_devstack.apt import ensure_packages
        from iss_devstack.gobuild import ensure_binaries, ensure_node_binaries
        from iss_devstack.node import PACKAGES

        ensure_binaries(settings)
        ensure_node_binaries(settings)
        for provides, packages in PACKAGES.items():
            ensure_packages(packages, provides=provides)
    if images:
        from iss_devstack.images import prebuild

        prebuild(settings)
    if browser:
        from iss_devstack.apt import ensure_packages

        ensure_packages(["chromium", "chromium-driver"], provides="/usr/bin/chromium")
    say("everything is installed")


def images(settings: DevstackSettings, only: list[str]) -> None:
    """Build and tag the local images (all, or the named ones with what they build on)."""
    from iss_devstack.docker import Docker
    from iss_devstack.images import build_all, catalogue, sizes

    docker = Docker(settings)
    docker.start()
    built = build_all(settings, docker, only)
    what = {image.name: image.what for image in catalogue()}
    what["debian"] = "minimal Debian bookworm (debootstrap): the base of the others"
    for name, size in sizes(docker, list(built)).items():
        print(f"  {built[name]:<32} {size / 1e6:7.1f} MB  {what[name]}")
    say("images built; the engine keeps running for the next build (`iss-devstack docker stop`)")


def export(settings: DevstackSettings, refs: list[str], every: bool) -> None:
    """Print the path of a `docker save` tarball of each image."""
    from iss_devstack.images import cluster_images
    from iss_devstack.images import export as export_image

    if every:
        refs = [*refs, *cluster_images()]
    if not refs:
        raise DevstackError("name the images to export, or pass --all")
    for image_ref in refs:
        print(export_image(image_ref, settings))


def docker(settings: DevstackSettings, action: str) -> None:
    from iss_devstack.docker import Docker

    engine = Docker(settings)
    if action == "start":
        engine.start()
        print(f"DOCKER_HOST={engine.host}")
    elif engine.stop():
        say(f"stopped dockerd {engine.version}")
    else:
        say("no dockerd of the stack was running")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="iss-devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    setup = commands.add_parser("install", help="install and build what the stack and tests need")
    setup.add_argument("--no-controlplane", action="store_true", help="skip the Kubernetes build")
    setup.add_argument("--no-browser", action="store_true", help="skip Chromium")
    setup.add_argument("--no-images", action="store_true", help="skip the container images")
    build = commands.add_parser("images", help="build the container images (layers are reused)")
    build.add_argument("names", nargs="*", help="only these images (and what they build on)")
    save = commands.add_parser("image-export", help="docker save images to tarballs; print paths")
    save.add_argument("refs", nargs="*", help="image references, e.g. iss-tracker/pause:0.1.0")
    save.add_argument("--all", action="store_true", help="every image a node of the chart runs")
    engine = commands.add_parser("docker", help="start or stop the stack's own dockerd")
    engine.add_argument("action", choices=["start", "stop"])
    commands.add_parser(
        "cluster-up", help="Kafka, control plane, a local node, the images, the chart installed"
    )
    commands.add_parser("cluster-down", help="stop everything `cluster-up` started")
    commands.add_parser("node-down", help="stop the local node, whichever run started it")
    commands.add_parser("up", help="start the whole pipeline locally")
    commands.add_parser("down", help="stop everything `up` started")
    commands.add_parser("reset", help="stop everything and delete the local data")
    args = parser.parse_args(argv)

    settings = DevstackSettings()
    try:
        if args.command == "install":
            install(
                settings,
                controlplane=not args.no_controlplane,
                browser=not args.no_browser,
                images=not args.no_images,
            )
        elif args.command == "images":
            images(settings, args.names)
        elif args.command == "image-export":
            export(settings, args.refs, args.all)
        elif args.command == "docker":
            docker(settings, args.action)
        elif args.command in ("cluster-up", "cluster-down", "node-down"):
            from iss_devstack import cluster

            {
                "cluster-up": cluster.up,
                "cluster-down": cluster.down,
                "node-down": cluster.node_down,
            }[args.command](settings)
        else:
            from iss_devstack import stack

            {"up": stack.up, "down": stack.down, "reset": stack.reset}[args.command](settings)
    except DevstackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
