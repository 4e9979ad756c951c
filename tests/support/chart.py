"""Rendering the chart (helm through the control plane, or the helm binary alone) and reading
what it renders; installing it into a namespace. Shared by the chart and operator tests."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from iss_devstack.gobuild import ensure_binaries
from iss_devstack.settings import DevstackSettings

if TYPE_CHECKING:
    from iss_devstack.controlplane import ControlPlane

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "iss-tracker"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
# The Kubernetes version the chart targets; rendering pins it so capabilities are stable.
KUBE_VERSION = "1.34.4"

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Rendered:
    """The objects `helm template` printed, in order."""

    text: str
    objects: tuple[Manifest, ...]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [o for o in self.objects if o["kind"] == kind]

    def named(self, kind: str, name: str) -> Manifest:
        for obj in self.of_kind(kind):
            if obj["metadata"]["name"] == name:
                return obj
        names = [o["metadata"]["name"] for o in self.of_kind(kind)]
        raise AssertionError(f"no {kind} named {name}; rendered: {names}")

    def component(self, kind: str, component: str) -> Manifest:
        found = [
            o
            for o in self.of_kind(kind)
            if o["metadata"].get("labels", {}).get("app.kubernetes.io/component") == component
        ]
        assert len(found) == 1, f"expected one {kind} of component {component}, got {len(found)}"
        return found[0]

    def components(self) -> set[str]:
        return {
            o["metadata"].get("labels", {}).get("app.kubernetes.io/component", "")
            for o in self.objects
        }


def parse_manifests(text: str) -> tuple[Manifest, ...]:
    return tuple(doc for doc in yaml.safe_load_all(text) if doc)


def template_args(
    release: str = "iss",
    namespace: str = "iss-tracker",
    values_files: Iterable[Path] = (),
    sets: dict[str, str] | None = None,
    extra: Iterable[str] = (),
) -> list[str]:
    args = [
        "template",
        release,
        str(CHART),
        "--namespace",
        namespace,
        "--kube-version",
        KUBE_VERSION,
    ]
    for path in values_files:
        args += ["--values", str(path)]
    for key, value in (sets or {}).items():
        args += ["--set", f"{key}={value}"]
    return [*args, *extra]


def render(
    controlplane: ControlPlane,
    release: str = "iss",
    namespace: str = "iss-tracker",
    values_files: Iterable[Path] = (),
    sets: dict[str, str] | None = None,
    extra: Iterable[str] = (),
) -> Rendered:
    """`helm template` the chart; a failure raises with helm's message."""
    result = controlplane.helm(*template_args(release, namespace, values_files, sets, extra))
    return Rendered(result.stdout, parse_manifests(result.stdout))


def render_error(
    controlplane: ControlPlane, sets: dict[str, str], values_files: Iterable[Path] = ()
) -> str:
    """Render expecting helm to refuse; return what it said."""
    result = controlplane.helm(*template_args(values_files=values_files, sets=sets), check=False)
    assert result.returncode != 0, f"helm rendered {sets} without complaint"
    return result.stderr


def helm_template(sets: dict[str, str] | None = None, **kwargs: Any) -> Rendered:
    """`helm template` the chart with the helm binary alone (no API server needed)."""
    helm = ensure_binaries(DevstackSettings()).helm
    result = subprocess.run(
        [str(helm), *template_args(sets=sets, **kwargs)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return Rendered(result.stdout, parse_manifests(result.stdout))


def prometheus_files(rendered: Rendered) -> dict[str, str]:
    data: dict[str, str] = rendered.component("ConfigMap", "prometheus")["data"]
    return data


def pod_spec(workload: Manifest) -> Manifest:
    spec: Manifest = workload["spec"]
    if workload["kind"] == "Pod":
        return spec
    template: Manifest = spec["template"]["spec"]
    return template


def containers(workload: Manifest) -> Iterator[Manifest]:
    spec = pod_spec(workload)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def main_container(workload: Manifest) -> Manifest:
    """A workload's first regular container (init containers run before it)."""
    container: Manifest = pod_spec(workload)["containers"][0]
    return container


def env_of(container: Manifest) -> dict[str, Any]:
    """A container's environment: plain values as strings, references as their source dict."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job", "Pod")


def workloads(rendered: Rendered) -> list[Manifest]:
    return [o for o in rendered.objects if o["kind"] in WORKLOAD_KINDS]


def memory_bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(quantity)


def grafana_datasources(rendered: Rendered) -> list[dict[str, Any]]:
    provisioning = next(
        c for c in rendered.of_kind("ConfigMap") if c["metadata"]["name"].endswith("-provisioning")
    )
    sources: list[dict[str, Any]] = yaml.safe_load(provisioning["data"]["datasources.yaml"])[
        "datasources"
    ]
    return sources


def wait_for_default_service_account(controlplane: ControlPlane, namespace: str) -> None:
    """Pods are admitted only once kube-controller-manager created the `default` account."""
    deadline = time.monotonic() + 60
    while controlplane.kubectl(
        "get", "serviceaccount", "default", "-n", namespace, check=False
    ).returncode:
        assert time.monotonic() < deadline, f"no default ServiceAccount in {namespace}"
        time.sleep(0.3)
