from __future__ import annotations

from pathlib import Path

import pytest

from iss_devstack.errors import DevstackError
from iss_devstack.gobuild import (
    ensure_binaries,
    helm_ldflags,
    kubernetes_ldflags,
    parse_go_version,
    pinned_kubernetes_version,
)
from iss_devstack.settings import DevstackSettings

pytestmark = pytest.mark.unit


def test_without_go_on_path_the_cold_build_fails_naming_the_fix(tmp_path: Path) -> None:
    settings = DevstackSettings(cache_dir=tmp_path / "cache")
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()

    with pytest.raises(DevstackError, match=r"`go` is not on PATH.*go\.dev/dl"):
        ensure_binaries(settings, env={"PATH": str(empty_bin)})


def test_a_version_other_than_the_go_mod_pin_is_an_error_naming_the_fix(tmp_path: Path) -> None:
    pinned = DevstackSettings().kubernetes_version
    settings = DevstackSettings(cache_dir=tmp_path / "cache", kubernetes_version="v1.99.0")

    with pytest.raises(DevstackError, match=f"ISS_DEVSTACK_KUBERNETES_VERSION={pinned}"):
        ensure_binaries(settings, env={"PATH": ""})


def test_the_kubernetes_binaries_are_stamped_with_their_release_version() -> None:
    flags = kubernetes_ldflags("v1.34.4").split()

    assert "k8s.io/component-base/version.gitVersion=v1.34.4" in flags
    assert "k8s.io/component-base/version.gitMinor=34" in flags
    assert "k8s.io/client-go/pkg/version.gitVersion=v1.34.4" in flags


def test_helm_assumes_the_kubernetes_minor_of_its_client_library() -> None:
    flags = helm_ldflags("v3.19.0", "v0.34.0").split()

    assert "helm.sh/helm/v3/internal/version.version=v3.19.0" in flags
    assert "helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=34" in flags


def test_the_go_mod_pin_is_read_from_a_require_block() -> None:
    go_mod = (
        "module x\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes v1.34.4\n\n"
        "require (\n\tk8s.io/api v0.34.4 // indirect\n)\n"
    )

    assert pinned_kubernetes_version(go_mod) == "v1.34.4"


@pytest.mark.parametrize(
    ("answer", "version"),
    [("go1.26.8", (1, 26)), ("go1.21rc2", (1, 21)), ("devel", None)],
)
def test_go_versions_are_read_as_major_and_minor(
    answer: str, version: tuple[int, int] | None
) -> None:
    assert parse_go_version(answer) == version
