"""The control plane's and the node's binaries, built from Go modules once per version and cached.

etcd, kube-apiserver, kube-controller-manager and kubectl come from the module in
hack/controlplane (its go.mod pins k8s.io/kubernetes); kubelet, kube-scheduler and kube-proxy
from the same module (its `tool` lines keep their dependencies); helm and CoreDNS from their own
modules.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from iss_devstack.errors import DevstackError
from iss_devstack.progress import say, step
from iss_devstack.settings import REPO_ROOT, DevstackSettings

GO_MODULE_DIR = REPO_ROOT / "hack" / "controlplane"
KUBERNETES_PACKAGES = (
    "./etcd",
    "k8s.io/kubernetes/cmd/kube-apiserver",
    "k8s.io/kubernetes/cmd/kube-controller-manager",
    "k8s.io/kubernetes/cmd/kubectl",
)
KUBERNETES_COMMANDS = ("etcd", "kube-apiserver", "kube-controller-manager", "kubectl")
NODE_PACKAGES = (
    "k8s.io/kubernetes/cmd/kubelet",
    "k8s.io/kubernetes/cmd/kube-scheduler",
    "k8s.io/kubernetes/cmd/kube-proxy",
)
NODE_COMMANDS = ("kubelet", "kube-scheduler", "kube-proxy")
COREDNS_MODULE = "github.com/coredns/coredns"
MIN_GO = (1, 21)
"""Oldest Go that fetches the toolchain a go.mod asks for by itself (GOTOOLCHAIN=auto)."""
HEARTBEAT_SECONDS = 60.0
RECIPE_FILE = ".recipe"
"""Written after a successful build: the linker flags it used; other flags mean rebuild."""
HELM_MODULE_ROOT = "helm.sh/helm/v3"
HELM_MODULE = f"{HELM_MODULE_ROOT}/cmd/helm"

GO_INSTALL_HINT = (
    "install Go 1.24 or newer from https://go.dev/dl/ "
    "(for example `curl -fsSL https://go.dev/dl/go1.24.6.linux-amd64.tar.gz | "
    "sudo tar -C /usr/local -xz`) and put it on PATH (`export PATH=/usr/local/go/bin:$PATH`)"
)


@dataclass(frozen=True)
class Binaries:
    """Paths of the control plane's executables."""

    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kubectl: Path
    helm: Path

    @property
    def path_dirs(self) -> list[Path]:
        """Folders to put first on PATH so `kubectl` and `helm` resolve to these builds."""
        return list(dict.fromkeys([self.kubectl.parent, self.helm.parent]))


def ensure_binaries(settings: DevstackSettings, env: Mapping[str, str] | None = None) -> Binaries:
    """Return the cached binaries, building whatever is missing (minutes, once per version).

    Concurrent callers (parallel test sessions) wait for one build instead of racing it.
    """
    environ = dict(os.environ if env is None else env)
    kube_bin = settings.cache("controlplane", settings.kubernetes_version) / "bin"
    helm_bin = settings.cache("helm", settings.helm_version) / "bin"
    kube_flags = kubernetes_ldflags(settings.kubernetes_version)
    with _build_lock(kube_bin):
        if not _is_built(kube_bin, KUBERNETES_COMMANDS, kube_flags):
            _check_pinned_version(settings.kubernetes_version)
            go = find_go(environ)
            _build(
                go,
                [
                    "build",
                    "-trimpath",
                    f"-ldflags={kube_flags}",
                    "-o",
                    "{out}/",
                    *KUBERNETES_PACKAGES,
                ],
                cwd=GO_MODULE_DIR,
                target=kube_bin,
                expected=KUBERNETES_COMMANDS,
                recipe=kube_flags,
                env=environ,
                what=(
                    f"building etcd, kube-apiserver, kube-controller-manager and kubectl "
                    f"{settings.kubernetes_version} from Go modules "
                    "(5 to 10 minutes on 2 cores with a cold Go cache; once per version)"
                ),
            )
    with _build_lock(helm_bin):
        if not _is_built(helm_bin, ("helm",), None):
            go = find_go(environ)
            helm_flags = helm_ldflags(settings.helm_version, _helm_client_go(go, settings, environ))
            _build(
                go,
                [
                    "install",
                    "-trimpath",
                    f"-ldflags={helm_flags}",
                    f"{HELM_MODULE}@{settings.helm_version}",
                ],
                cwd=helm_bin.parent,
                target=helm_bin,
                expected=("helm",),
                recipe=helm_flags,
                env=environ,
                gobin=True,
                what=(
                    f"building helm {settings.helm_version} from Go modules "
                    "(about 2 minutes on 2 cores with a cold Go cache; once per version)"
                ),
            )
    return Binaries(
        etcd=kube_bin / "etcd",
        kube_apiserver=kube_bin / "kube-apiserver",
        kube_controller_manager=kube_bin / "kube-controller-manager",
        kubectl=kube_bin / "kubectl",
        helm=helm_bin / "helm",
    )


@dataclass(frozen=True)
class NodeBinaries:
    """Paths of the node's executables."""

    kubelet: Path
    kube_scheduler: Path
    kube_proxy: Path
    coredns: Path


def ensure_node_binaries(
    settings: DevstackSettings, env: Mapping[str, str] | None = None
) -> NodeBinaries:
    """The node's cached binaries, building whatever is missing (minutes, once per version)."""
    environ = dict(os.environ if env is None else env)
    node_bin = settings.cache("node", settings.kubernetes_version) / "bin"
    coredns_bin = settings.cache("coredns", settings.coredns_version) / "bin"
    kube_flags = kubernetes_ldflags(settings.kubernetes_version)
    with _build_lock(node_bin):
        if not _is_built(node_bin, NODE_COMMANDS, kube_flags):
            _check_pinned_version(settings.kubernetes_version)
            _build(
                find_go(environ),
                ["build", "-trimpath", f"-ldflags={kube_flags}", "-o", "{out}/", *NODE_PACKAGES],
                cwd=GO_MODULE_DIR,
                target=node_bin,
                expected=NODE_COMMANDS,
                recipe=kube_flags,
                env=environ,
                what=(
                    f"building kubelet, kube-scheduler and kube-proxy "
                    f"{settings.kubernetes_version} from Go modules "
                    "(3 to 6 minutes on 2 cores; once per version)"
                ),
            )
    with _build_lock(coredns_bin):
        if not _is_built(coredns_bin, ("coredns",), None):
            _build(
                find_go(environ),
                ["install", "-trimpath", f"{COREDNS_MODULE}@{settings.coredns_version}"],
                cwd=coredns_bin.parent,
                target=coredns_bin,
                expected=("coredns",),
                recipe=settings.coredns_version,
                env=environ,
                gobin=True,
                what=(
                    f"building CoreDNS {settings.coredns_version} from Go modules "
                    "(3 to 6 minutes on 2 cores with a cold Go cache; once per version)"
                ),
            )
    return NodeBinaries(
        kubelet=node_bin / "kubelet",
        kube_scheduler=node_bin / "kube-scheduler",
        kube_proxy=node_bin / "kube-proxy",
        coredns=coredns_bin / "coredns",
    )


@contextmanager
def _build_lock(target: Path) -> Iterator[None]:
    with target.with_name("build.lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for another build of {target.parent.name} to finish")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def kubernetes_ldflags(version: str) -> str:
    """Stamp the release version into the binaries, as Kubernetes' own build does.

    Without it the API server reports v0.0.0-master, and helm's kubeVersion checks fail.
    """
    major, minor = _major_minor(version)
    stamps = {"gitVersion": version, "gitMajor": major, "gitMinor": minor}
    return " ".join(
        f"-X {package}.{name}={value}"
        for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for name, value in stamps.items()
    )


def helm_ldflags(version: str, client_go: str) -> str:
    """Stamp helm's version and the Kubernetes version its client library speaks.

    That Kubernetes version is what `helm template` and `helm lint` assume without a cluster.
    """
    # client-go v0.X.Y belongs to Kubernetes v1.X.Y
    _, minor = _major_minor(client_go)
    flags = [f"-X helm.sh/helm/v3/internal/version.version={version}"]
    for package in ("helm.sh/helm/v3/pkg/chartutil", "helm.sh/helm/v3/pkg/lint/rules"):
        flags += [f"-X {package}.k8sVersionMajor=1", f"-X {package}.k8sVersionMinor={minor}"]
    return " ".join(flags)


def _major_minor(version: str) -> tuple[str, str]:
    match = re.match(r"v?(\d+)\.(\d+)", version)
    if match is None:
        raise DevstackError(f"cannot read a version number from {version!r}")
    return match[1], match[2]


def _is_built(directory: Path, commands: Sequence[str], recipe: str | None) -> bool:
    """All commands are there, from a finished build with this recipe (None: any recipe)."""
    marker = directory / RECIPE_FILE
    return (
        all((directory / name).is_file() for name in commands)
        and marker.is_file()
        and (recipe is None or marker.read_text() == recipe)
    )


def _helm_client_go(go: Path, settings: DevstackSettings, env: Mapping[str, str]) -> str:
    """The k8s.io/client-go version helm's go.mod requires (downloads the module if needed)."""
    result = subprocess.run(
        [str(go), "mod", "download", "-json", f"{HELM_MODULE_ROOT}@{settings.helm_version}"],
        cwd=settings.cache_dir,
        env={**env, "GOTOOLCHAIN": env.get("GOTOOLCHAIN", "auto")},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise DevstackError(
            f"`go mod download {HELM_MODULE_ROOT}@{settings.helm_version}` failed; is the Go "
            f"module proxy reachable (GOPROXY)?\n{(result.stdout + result.stderr)[-2000:]}"
        )
    go_mod = Path(json.loads(result.stdout)["GoMod"]).read_text()
    match = re.search(r"^\s*k8s\.io/client-go\s+(v\S+)", go_mod, re.MULTILINE)
    if match is None:
        raise DevstackError(f"helm {settings.helm_version}'s go.mod names no k8s.io/client-go")
    return match[1]


def find_go(env: Mapping[str, str]) -> Path:
    """The `go` command on PATH, recent enough to build the pinned modules."""
    found = shutil.which("go", path=env.get("PATH", ""))
    if found is None:
        raise DevstackError(f"`go` is not on PATH; it builds the control plane: {GO_INSTALL_HINT}")
    result = subprocess.run(
        [found, "env", "GOVERSION"], capture_output=True, text=True, check=False, env=dict(env)
    )
    version = parse_go_version(result.stdout.strip())
    if version is None or version < MIN_GO:
        raise DevstackError(
            f"{found} reports {result.stdout.strip() or result.stderr.strip()!r}, "
            f"too old to build the control plane: {GO_INSTALL_HINT}"
        )
    return Path(found)


def parse_go_version(text: str) -> tuple[int, int] | None:
    """(major, minor) of a `go env GOVERSION` answer such as `go1.24.6`."""
    match = re.match(r"go(\d+)\.(\d+)", text)
    return None if match is None else (int(match[1]), int(match[2]))


def pinned_kubernetes_version(go_mod: str) -> str | None:
    """The k8s.io/kubernetes version a go.mod requires."""
    match = re.search(r"^\s*(?:require\s+)?k8s\.io/kubernetes\s+(v\S+)", go_mod, re.MULTILINE)
    return None if match is None else match[1]


def _check_pinned_version(wanted: str) -> None:
    pinned = pinned_kubernetes_version((GO_MODULE_DIR / "go.mod").read_text())
    if pinned != wanted:
        raise DevstackError(
            f"{GO_MODULE_DIR / 'go.mod'} pins k8s.io/kubernetes {pinned}, but "
            f"{wanted} is configured: set ISS_DEVSTACK_KUBERNETES_VERSION={pinned} "
            f"or move the pin (`cd hack/controlplane && go get k8s.io/kubernetes@{wanted}`, "
            "with its staging replaces)"
        )


def _build(
    go: Path,
    args: Sequence[str],
    *,
    cwd: Path,
    target: Path,
    expected: Sequence[str],
    recipe: str,
    env: Mapping[str, str],
    what: str,
    gobin: bool = False,
) -> None:
    """Build into a scratch folder, then move it into place: a cut-short build leaves nothing."""
    scratch = target.with_name(target.name + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    log_path = target.with_name("build.log")
    argv = [str(go), *(arg.format(out=scratch) for arg in args)]
    build_env = {**env, "GOTOOLCHAIN": env.get("GOTOOLCHAIN", "auto")}
    if gobin:
        build_env["GOBIN"] = str(scratch)
    with step(what), log_path.open("w") as log:
        say(f"build log: {log_path}")
        process = subprocess.Popen(
            argv, cwd=cwd, env=build_env, stdout=log, stderr=subprocess.STDOUT
        )
        started = time.monotonic()
        while True:
            try:
                process.wait(timeout=HEARTBEAT_SECONDS)
                break
            except subprocess.TimeoutExpired:
                say(f"still building ({(time.monotonic() - started) / 60:.0f} min so far)")
        if process.returncode != 0:
            log.flush()
            tail = log_path.read_text(errors="replace")[-4000:]
            raise DevstackError(
                f"`{' '.join(argv)}` failed (exit {process.returncode}) in {cwd}; "
                f"full log in {log_path}:\n{tail}"
            )
    missing = [name for name in expected if not (scratch / name).is_file()]
    if missing:
        raise DevstackError(f"the build did not produce {', '.join(missing)}; see {log_path}")
    (scratch / RECIPE_FILE).write_text(recipe)
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)
