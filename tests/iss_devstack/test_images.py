"""Building, checking and exporting the local images on the stack's own engine."""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from iss_devstack.docker import Docker
from iss_devstack.errors import DevstackError
from iss_devstack.images import (
    RECIPE_LABEL,
    Image,
    build,
    catalogue,
    cluster_images,
    ensure_debian_base,
    export,
    failing_step,
    project_version,
    ref,
)
from iss_devstack.settings import DevstackSettings

pytestmark = pytest.mark.docker


def test_every_image_is_named_after_the_project_and_its_version() -> None:
    names = [image.name for image in catalogue()]
    assert set(names) >= {"producer", "enricher", "operator", "liveview", "postgres"}
    assert set(names) >= {"prometheus", "pause", "python"}
    assert ref("producer") == f"iss-tracker/producer:{project_version()}"


def test_a_node_gets_every_image_a_pod_runs_and_no_base() -> None:
    wanted = {"producer", "enricher", "operator", "liveview", "postgres", "prometheus", "pause"}
    assert set(cluster_images()) == {ref(name) for name in wanted}


def test_what_an_image_builds_on_is_built_before_it() -> None:
    order = [image.name for image in catalogue()]
    for position, image in enumerate(catalogue()):
        for needed in image.needs:
            assert needed == "debian" or order.index(needed) < position, image.name


def test_export_writes_a_tarball_another_runtime_can_import(
    local_images: dict[str, str], devstack_settings: DevstackSettings
) -> None:
    tarball = export(local_images["pause"], devstack_settings)
    with tarfile.open(tarball) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest[0]["RepoTags"] == [local_images["pause"]]
    assert export(local_images["pause"], devstack_settings) == tarball, "made again unchanged"


def test_export_of_an_unknown_image_names_the_fix(
    docker_engine: Docker, devstack_settings: DevstackSettings
) -> None:
    with pytest.raises(DevstackError, match="make images"):
        export("iss-tracker/no-such-image:0", devstack_settings)


def test_base_image_without_the_recipe_label_is_imported_again(
    docker_engine: Docker, local_images: dict[str, str], devstack_settings: DevstackSettings
) -> None:
    """A stale or foreign image under the base's name is replaced; a good one is kept."""
    name = "iss-tracker/debian-stale-test:0"
    subprocess.run(docker_engine.argv("tag", local_images["pause"], name), check=True)
    try:
        assert docker_engine.label(name, RECIPE_LABEL) is None
        ensure_debian_base(docker_engine, devstack_settings, name)
        assert docker_engine.label(name, RECIPE_LABEL) is not None
        imported = docker_engine.image_id(name)
        ensure_debian_base(docker_engine, devstack_settings, name)
        assert docker_engine.image_id(name) == imported
    finally:
        subprocess.run(docker_engine.argv("rmi", "--force", name), capture_output=True)


def test_an_image_that_fails_to_build_names_the_failing_step(
    docker_engine: Docker,
    local_images: dict[str, str],
    devstack_settings: DevstackSettings,
    tmp_path: Path,
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ARG DEBIAN_IMAGE\nFROM ${DEBIAN_IMAGE}\nRUN echo the-step-ran && exit 3\n"
    )
    broken = Image("broken-test", dockerfile, tmp_path, needs=("debian",))
    with pytest.raises(DevstackError) as failure:
        build(devstack_settings, docker_engine, broken, tmp_path)
    message = str(failure.value)
    step, *output = message.splitlines()[1:]
    assert step.endswith("[2/2] RUN echo the-step-ran && exit 3"), message
    assert any(line.endswith(" the-step-ran") for line in output), message
    assert "exit code: 3" in output[-1], message
    assert docker_engine.image_id(ref("broken-test")) is None


def test_failing_step_without_a_buildkit_error_shows_the_end_of_the_output() -> None:
    output = "\n".join(f"line {n}" for n in range(100))
    assert failing_step(output).splitlines()[-1] == "line 99"
