"""Prometheus for the in-cluster image, built from its Go module once per version and cached.

Debian's prometheus package is built without Kubernetes service discovery
(`kubernetes_sd_configs` is an unknown field to it), and the chart's scrape configuration finds
its targets that way, so the image carries an upstream build instead. Prometheus' Go module
versions are v0.<major*100+minor>.<patch> (v3.5.0 is v0.305.0); its go.mod has replace
directives, so `go install module@version` refuses it and the build runs inside the downloaded
module. The build has no web UI assets (they come from an npm build): the API, /-/ready and
/-/healthy work, the /graph page does not.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from iss_devstack.errors import DevstackError
from iss_devstack.gobuild import _build, _build_lock, _is_built, find_go
from iss_devstack.settings import DevstackSettings

MODULE = "github.com/prometheus/prometheus"


def module_version(release: str) -> str:
    """The Go module version of a Prometheus release: v3.5.0 -> v0.305.0."""
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)", release)
    if match is None:
        raise DevstackError(f"{release!r} is not a Prometheus release such as v3.5.0")
    major, minor, patch = (int(part) for part in match.groups())
    return f"v0.{major * 100 + minor}.{patch}"


def ldflags(release: str) -> str:
    """Stamp the release into the binary (`prometheus --version`, build_info); no symbols."""
    package = "github.com/prometheus/common/version"
    stamps = [f"-X {package}.Version={release.removeprefix('v')}", f"-X {package}.Branch=HEAD"]
    return " ".join(["-s", "-w", *stamps])


def ensure_prometheus(settings: DevstackSettings) -> Path:
    """The path of a static prometheus binary, built when missing (minutes, once per version)."""
    release = settings.prometheus_image_version
    target = settings.cache("prometheus", release) / "bin"
    flags = ldflags(release)
    environ = dict(os.environ)
    environ["PATH"] = f"{environ.get('PATH', '')}:/usr/local/go/bin"
    with _build_lock(target):
        if not _is_built(target, ("prometheus",), flags):
            go = find_go(environ)
            source = _module_dir(go, module_version(release), environ, settings.cache_dir)
            _build(
                go,
                ["build", "-trimpath", f"-ldflags={flags}", "-o", "{out}/", "./cmd/prometheus"],
                cwd=source,
                target=target,
                expected=("prometheus",),
                recipe=flags,
                env={**environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly"},
                what=(
                    f"building Prometheus {release} from its Go module for the cluster image "
                    "(about 10 minutes on 2 cores with a cold Go cache; once per version)"
                ),
            )
    return target / "prometheus"


def _module_dir(go: Path, version: str, env: dict[str, str], cwd: Path) -> Path:
    """The downloaded source of the Prometheus module (read-only, in the module cache)."""
    result = subprocess.run(
        [str(go), "mod", "download", "-json", f"{MODULE}@{version}"],
        cwd=cwd,
        env={**env, "GOTOOLCHAIN": env.get("GOTOOLCHAIN", "auto"), "GOFLAGS": ""},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if result.returncode != 0:
        raise DevstackError(
            f"`go mod download {MODULE}@{version}` failed; is the Go module proxy reachable "
            f"(GOPROXY)?\n{(result.stdout + result.stderr)[-2000:]}"
        )
    return Path(json.loads(result.stdout)["Dir"])
