"""Container images built on this machine, with no registry: `make images`.

The chain starts from Debian packages. `debootstrap --variant=minbase` makes a root filesystem
(cached as a tarball under the cache directory), imported as `iss-tracker/debian`; Dockerfiles
under `images/` build everything else on it with BuildKit, which keeps each layer for the next
run. The four project images come from `images/Dockerfile` with `PYTHON_IMAGE` set to the local
`iss-tracker/python`. Every image is tagged `iss-tracker/<name>:<project version>`.

`export(ref)` writes an image as a `docker save` tarball for another runtime to import
(`ctr -n k8s.io images import FILE`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import re
import shutil
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from iss_devstack.apt import ensure_packages
from iss_devstack.docker import Docker, require_root, unmount_all
from iss_devstack.errors import DevstackError
from iss_devstack.procs import run
from iss_devstack.progress import say, step
from iss_devstack.settings import REPO_ROOT, DevstackSettings

IMAGES_DIR = REPO_ROOT / "images"
REPOSITORY = "iss-tracker"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
"""The machine's CA bundle: passed to builds as the BuildKit secret `ca` when present."""
RECIPE_LABEL = "io.iss-tracker.recipe"
"""Label of the imported base image: the digest of what made its root filesystem."""
SUITE = "bookworm"
PROJECT_TARGETS = ("producer", "enricher", "operator", "liveview")


def project_version() -> str:
    with (REPO_ROOT / "pyproject.toml").open("rb") as file:
        version: str = tomllib.load(file)["project"]["version"]
        return version


def ref(name: str, version: str | None = None) -> str:
    """The local name of an image, e.g. `iss-tracker/producer:0.1.0`."""
    return f"{REPOSITORY}/{name}:{version or project_version()}"


@dataclass(frozen=True)
class Image:
    """One image `make images` builds: its Dockerfile, target and the images it builds on."""

    name: str
    dockerfile: Path
    context: Path
    target: str | None = None
    needs: tuple[str, ...] = ()
    """Local images this one starts from, passed as build arguments (ARG NAME=ref)."""
    what: str = ""
    """One line for people: what the image is."""
    prepare: Callable[[DevstackSettings, Path], None] | None = None
    """Adds files made on the host to a copy of the build context (compiled binaries)."""


def catalogue() -> list[Image]:
    """Every locally built image, in build order."""
    images = [
        Image(
            "python",
            IMAGES_DIR / "python" / "Dockerfile",
            IMAGES_DIR / "python",
            needs=("debian",),
            what="Debian's Python 3.11 with venv: the base of the project images",
        ),
        Image(
            "pause",
            IMAGES_DIR / "pause" / "Dockerfile",
            IMAGES_DIR / "pause",
            what="pod sandbox image for containerd (one static binary)",
            prepare=_compile_pause,
        ),
        Image(
            "postgres",
            IMAGES_DIR / "postgres" / "Dockerfile",
            IMAGES_DIR / "postgres",
            needs=("debian",),
            what="Debian's PostgreSQL 15, uid 1000, POSTGRES_USER/PASSWORD/DB",
        ),
        Image(
            "prometheus",
            IMAGES_DIR / "prometheus" / "Dockerfile",
            IMAGES_DIR / "prometheus",
            needs=("debian",),
            what="Prometheus built from its Go module, uid 65534",
            prepare=_add_prometheus,
        ),
    ]
    images += [
        Image(
            target,
            IMAGES_DIR / "Dockerfile",
            REPO_ROOT,
            target=target,
            needs=("python",),
            what=f"the iss-{target} entrypoint",
        )
        for target in PROJECT_TARGETS
    ]
    return images


BASES = ("debian", "python")
"""Images only other images build on; no pod runs them."""


def cluster_images() -> list[str]:
    """References of every image a node running the chart needs (pause included)."""
    return [ref(image.name) for image in catalogue() if image.name not in BASES]


_BUILD_ARG = {"debian": "DEBIAN_IMAGE", "python": "PYTHON_IMAGE"}


def _recipe() -> str:
    """What the base root filesystem depends on; a change rebuilds it."""
    text = f"debootstrap --variant=minbase {SUITE} | sources: {_sources(SUITE)} | v1"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _sources(suite: str, mirror: str = "http://deb.debian.org/debian") -> str:
    security = mirror.replace("/debian", "/debian-security")
    return (
        f"deb {mirror} {suite} main\n"
        f"deb {mirror} {suite}-updates main\n"
        f"deb {security} {suite}-security main\n"
    )


def rootfs_tarball(settings: DevstackSettings) -> Path:
    """The base root filesystem as a tarball, made by debootstrap once per recipe.

    A half-made one (no completion marker) is discarded and made again.
    """
    folder = settings.cache(f"debian-{SUITE}", _recipe())
    with _lock(folder / "build.lock"):
        return _make_rootfs(folder)


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """One builder at a time per cache folder; the others wait and then reuse its result."""
    with path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for another build in {path.parent} to finish")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _make_rootfs(folder: Path) -> Path:
    tarball = folder / "rootfs.tar"
    marker = folder / "complete"
    if tarball.exists() and marker.exists():
        return tarball
    require_root()
    for cut_short in folder.glob("rootfs-*"):  # the staging folder of an interrupted run
        unmount_all(cut_short)
        shutil.rmtree(cut_short, ignore_errors=True)
    ensure_packages(["debootstrap"], provides="/usr/sbin/debootstrap")
    marker.unlink(missing_ok=True)
    tarball.unlink(missing_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="rootfs-", dir=folder))
    try:
        log = folder / "debootstrap.log"
        with step(f"making a minimal Debian {SUITE} root filesystem (debootstrap, about 1 min)"):
            with log.open("w") as out:
                result = subprocess.run(
                    ["debootstrap", "--variant=minbase", SUITE, str(staging / "root")],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    check=False,
                    timeout=1800,
                )
            if result.returncode != 0:
                raise DevstackError(
                    f"debootstrap failed (exit {result.returncode}); see {log}:\n"
                    + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
                )
        root = staging / "root"
        (root / "etc" / "apt" / "sources.list").write_text(_sources(SUITE))
        # What debootstrap downloaded and indexed is not part of an image.
        for downloads in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (root / downloads).glob("*"):
                if entry.is_file():
                    entry.unlink()
        with step(f"packing the root filesystem into {tarball}"):
            partial = folder / "rootfs.tar.partial"
            run(
                ["tar", "--numeric-owner", "-C", root, "-cf", partial, "."],
                what="packing the root filesystem",
                timeout=600,
            )
            partial.rename(tarball)
        marker.write_text(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
    finally:
        unmount_all(staging)  # debootstrap mounts /proc and /sys in the target while it runs
        shutil.rmtree(staging, ignore_errors=True)
    return tarball


def ensure_debian_base(docker: Docker, settings: DevstackSettings, name: str = "") -> str:
    """`iss-tracker/debian:<version>` in the engine, imported again when its recipe changed."""
    name = name or ref("debian")
    recipe = _recipe()
    if docker.label(name, RECIPE_LABEL) == recipe:
        return name
    tarball = rootfs_tarball(settings)
    with step(f"importing {tarball} as {name}"):
        run(
            docker.argv(
                "import",
                "--change", f"LABEL {RECIPE_LABEL}={recipe}",
                "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--change", "ENV LANG=C.UTF-8",
                "--change", 'CMD ["/bin/bash"]',
                str(tarball),
                name,
            ),
            what=f"docker import {tarball}",
            timeout=600,
        )  # fmt: skip
    return name


def _compile_pause(settings: DevstackSettings, context: Path) -> None:
    """The pause binary, compiled statically from images/pause/pause.c."""
    ensure_packages(["gcc", "libc6-dev"], provides="/usr/lib/x86_64-linux-gnu/libc.a")
    run(
        ["gcc", "-Os", "-static", "-s", "-o", context / "pause", context / "pause.c"],
        what="compiling images/pause/pause.c",
        timeout=120,
    )


def _add_prometheus(settings: DevstackSettings, context: Path) -> None:
    from iss_devstack.prombuild import ensure_prometheus

    shutil.copy(ensure_prometheus(settings), context / "prometheus")


_STEP = re.compile(r"^#\d+ \[[^\]]+\] ")


def build(settings: DevstackSettings, docker: Docker, image: Image, log_dir: Path) -> None:
    """Build and tag one image; on failure raise with the failing step and its output."""
    tag = ref(image.name)
    argv = ["build", "--progress=plain", "--network=host", "-f", str(image.dockerfile), "-t", tag]
    if image.target:
        argv += ["--target", image.target]
    for needed in image.needs:
        argv += ["--build-arg", f"{_BUILD_ARG[needed]}={ref(needed)}"]
    if CA_BUNDLE.exists():
        argv += ["--secret", f"id=ca,src={CA_BUNDLE}"]
    context = image.context
    log = log_dir / f"{image.name}.log"
    steps: set[str] = set()
    cached: set[str] = set()
    try:
        if image.prepare is not None:
            context = Path(tempfile.mkdtemp(prefix=f"iss-image-{image.name}-"))
            shutil.copytree(image.context, context, dirs_exist_ok=True)
            image.prepare(settings, context)
        with step(f"building {tag}"), log.open("w") as out:
            process = subprocess.Popen(
                docker.argv(*argv, str(context)),
                env={**docker.env(), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            assert process.stdout is not None
            for line in process.stdout:
                out.write(line)
                number, _, rest = line.partition(" ")
                if _STEP.match(line) and "[internal]" not in line and number not in steps:
                    steps.add(number)
                    say(f"  {image.name}: {rest.strip()[:110]}")
                elif rest.strip() == "CACHED":
                    cached.add(number)
            if process.wait() != 0:
                out.flush()
                raise DevstackError(
                    f"building {tag} failed (full log: {log}):\n{failing_step(log.read_text())}"
                )
            say(f"  {image.name}: {len(steps & cached)} of {len(steps)} steps from the cache")
    finally:
        if context != image.context:
            shutil.rmtree(context, ignore_errors=True)


def failing_step(output: str) -> str:
    """From BuildKit's plain output: the step that failed, its last output lines and the error."""
    lines = output.splitlines()
    error = next((line for line in lines if re.match(r"^#\d+ ERROR", line)), None)
    if error is None:
        return "\n".join(lines[-40:])
    number = error.split(" ", 1)[0] + " "
    own = [line for line in lines if line.startswith(number) and " sha256:" not in line]
    header, body = own[:1], own[1:]
    return "\n".join([*header, *body[-30:]])


def build_all(
    settings: DevstackSettings, docker: Docker, only: Sequence[str] = ()
) -> dict[str, str]:
    """Build (reusing cached layers) the chosen images, with what they build on first.

    Returns image name -> tag.
    """
    wanted = set(only) or {image.name for image in catalogue()} | {"debian"}
    images = {image.name: image for image in catalogue()}
    unknown = wanted - set(images) - {"debian"}
    if unknown:
        raise DevstackError(
            f"no image named {', '.join(sorted(unknown))}; known: debian, {', '.join(images)}"
        )
    closure = set(wanted)
    for name in list(wanted):
        closure |= _needs(name, images)
    log_dir = settings.state_dir / "images"
    log_dir.mkdir(parents=True, exist_ok=True)
    built: dict[str, str] = {}
    if "debian" in closure:
        built["debian"] = ensure_debian_base(docker, settings)
    for image in catalogue():
        if image.name in closure:
            build(settings, docker, image, log_dir)
            built[image.name] = ref(image.name)
    return built


def _needs(name: str, images: dict[str, Image]) -> set[str]:
    if name not in images:
        return set()
    found = set(images[name].needs)
    for needed in images[name].needs:
        found |= _needs(needed, images)
    return found


def export(image_ref: str, settings: DevstackSettings | None = None) -> Path:
    """A `docker save` tarball of a local image, made again only when the image changed.

    Import it into a containerd with `ctr -n k8s.io images import FILE`.
    """
    settings = settings or DevstackSettings()
    docker = Docker(settings)
    docker.start()
    image_id = docker.image_id(image_ref)
    if image_id is None:
        raise DevstackError(f"no local image {image_ref}: run `make images` first")
    folder = settings.cache("images", project_version()) / "export"
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", image_ref)
    tarball = folder / f"{safe}-{image_id.removeprefix('sha256:')[:12]}.tar"
    if tarball.exists():
        return tarball
    for stale in folder.glob(f"{safe}-*.tar"):
        stale.unlink()
    partial = tarball.with_suffix(".partial")
    with step(f"exporting {image_ref} to {tarball}"):
        run(docker.argv("save", "-o", str(partial), image_ref), what=f"docker save {image_ref}")
        partial.rename(tarball)
    return tarball


def sizes(docker: Docker, names: Sequence[str]) -> dict[str, int]:
    """Bytes of each local image, by name."""
    found = {}
    for name in names:
        out = run(
            docker.argv("image", "inspect", "--format", "{{.Size}}", ref(name)),
            what=f"docker image inspect {ref(name)}",
        )
        found[name] = int(out.strip())
    return found


def prebuild(settings: DevstackSettings) -> None:
    """Build every image ahead of the tests (`make install`), leaving the engine as it was.

    The first build on a machine takes minutes (Prometheus' Go build most of them), longer
    than one test may take.
    """
    docker = Docker(settings)
    running = docker.answers()
    docker.start()
    try:
        build_all(settings, docker)
    finally:
        if not running:
            docker.stop()
