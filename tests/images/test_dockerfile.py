"""What can be checked of the images without a container engine: the Dockerfile's rules,
skaffold's wiring to the Dockerfile and the chart, and that the wheel the images install
starts every entrypoint in a clean virtual environment."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "images" / "Dockerfile"
IMAGES = ("producer", "enricher", "operator", "liveview")

pytestmark = pytest.mark.unit


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def last(self, keyword: str) -> str | None:
        found = [arg for kw, arg in self.instructions if kw == keyword]
        return found[-1] if found else None


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, with continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else ""
            stages.append(Stage(name, parts[0]))
        elif keyword == "ARG" and not stages:
            key, _, default = rest.partition("=")
            args[key] = default
        elif stages:
            stages[-1].instructions.append((keyword, rest))
    return args, stages


def resolve(stage: Stage, args: dict[str, str], stages: list[Stage]) -> str:
    """The external image a stage starts from, following ARGs and earlier stages."""
    base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], stage.base)
    earlier = {s.name: s for s in stages}
    if base in earlier:
        return resolve(earlier[base], args, stages)
    return base


def effective(stage: Stage, keyword: str, stages: list[Stage]) -> str | None:
    """An instruction's value in a stage, inherited from the stage it is built on."""
    own = stage.last(keyword)
    if own is not None:
        return own
    earlier = {s.name: s for s in stages}
    return effective(earlier[stage.base], keyword, stages) if stage.base in earlier else None


@pytest.fixture(scope="module")
def dockerfile() -> tuple[dict[str, str], list[Stage]]:
    return parse_dockerfile(DOCKERFILE.read_text())


def targets(dockerfile: tuple[dict[str, str], list[Stage]]) -> dict[str, Stage]:
    return {s.name: s for s in dockerfile[1] if s.name in IMAGES}


def test_there_is_a_target_per_image(dockerfile: tuple[dict[str, str], list[Stage]]) -> None:
    assert sorted(targets(dockerfile)) == sorted(IMAGES)


def test_base_images_are_pinned_to_an_exact_version_or_digest(
    dockerfile: tuple[dict[str, str], list[Stage]],
) -> None:
    args, stages = dockerfile
    for stage in stages:
        base = resolve(stage, args, stages)
        digest = "@sha256:" in base
        exact_tag = re.search(r":\d+\.\d+\.\d+[-\w.]*$", base) is not None
        assert digest or exact_tag, f"stage {stage.name or '?'} starts from unpinned {base}"


def test_every_image_runs_as_a_numeric_non_root_user(
    dockerfile: tuple[dict[str, str], list[Stage]],
) -> None:
    _, stages = dockerfile
    for name, stage in targets(dockerfile).items():
        user = effective(stage, "USER", stages)
        assert user is not None, name
        uid = user.split(":")[0]
        assert uid.isdigit(), f"{name} runs as {user}"
        assert int(uid) > 0, f"{name} runs as root"


def test_entrypoints_are_the_project_console_scripts(
    dockerfile: tuple[dict[str, str], list[Stage]],
) -> None:
    for name, stage in targets(dockerfile).items():
        entrypoint = stage.last("ENTRYPOINT")
        assert entrypoint is not None, name
        assert json.loads(entrypoint) == [f"iss-{name}"]


def test_dependencies_install_before_the_sources_are_copied(
    dockerfile: tuple[dict[str, str], list[Stage]],
) -> None:
    """Editing code must not invalidate the dependency layer."""
    _, stages = dockerfile
    deps = next(s for s in stages if s.name == "deps")
    copied = [arg for kw, arg in deps.instructions if kw == "COPY"]
    assert copied == ["pyproject.toml ./"]
    assert any("--requirement" in arg for kw, arg in deps.instructions if kw == "RUN")


def test_dockerfile_holds_no_secrets() -> None:
    text = DOCKERFILE.read_text()
    for line in text.splitlines():
        if line.split(" ", 1)[0].upper() in {"ENV", "ARG"}:
            assert not re.search(r"(?i)(password|secret|token|api_?key)", line), line


def test_build_context_admits_only_what_the_dockerfile_copies() -> None:
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    assert ignore[0].strip() == "*" or "*" in [i.strip() for i in ignore]
    admitted = {i.strip()[1:].rstrip("/") for i in ignore if i.strip().startswith("!")}
    _, stages = parse_dockerfile(DOCKERFILE.read_text())
    for stage in stages:
        for keyword, arg in stage.instructions:
            if keyword == "COPY" and not arg.startswith("--from"):
                source = shlex.split(arg)[0]
                assert any(source == a or a.startswith(source + "/") for a in admitted), source


def test_everything_the_dockerfile_copies_exists() -> None:
    _, stages = parse_dockerfile(DOCKERFILE.read_text())
    for stage in stages:
        for keyword, arg in stage.instructions:
            if keyword == "COPY" and not arg.startswith("--from"):
                for source in shlex.split(arg)[:-1]:
                    assert (REPO / source).exists(), source


# skaffold


@pytest.fixture(scope="module")
def skaffold() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((REPO / "skaffold.yaml").read_text())
    return config


def test_skaffold_builds_every_image_from_its_target(
    skaffold: dict[str, Any], dockerfile: tuple[dict[str, str], list[Stage]]
) -> None:
    artifacts = skaffold["build"]["artifacts"]
    built = {a["image"]: a["docker"] for a in artifacts}
    assert set(built) == {f"iss-tracker/{name}" for name in IMAGES}
    for image, docker in built.items():
        assert docker["dockerfile"] == "images/Dockerfile"
        assert docker["target"] == image.split("/")[1]
        assert docker["target"] in targets(dockerfile)


def test_skaffold_sets_every_image_reference_the_chart_has(skaffold: dict[str, Any]) -> None:
    release = skaffold["deploy"]["helm"]["releases"][0]
    values = yaml.safe_load((REPO / release["chartPath"] / "values.yaml").read_text())
    templates = release["setValueTemplates"]
    for name in IMAGES:
        key = f"IMAGE_REPO_iss_tracker_{name}"
        assert templates[f"{name}.image.repository"] == "{{." + key + "}}"
        assert templates[f"{name}.image.tag"] == "{{.IMAGE_TAG_iss_tracker_" + name + "}}"
        assert set(values[name]["image"]) >= {"repository", "tag"}


def test_skaffold_has_kind_and_minikube_profiles(skaffold: dict[str, Any]) -> None:
    profiles = {p["name"]: p for p in skaffold["profiles"]}
    assert set(profiles) >= {"kind", "minikube"}
    kind_config = yaml.safe_load((REPO / "k8s" / "kind-config.yaml").read_text())
    context = f"kind-{kind_config['name']}"
    assert profiles["kind"]["activation"] == [{"kubeContext": context}]


# The wheel in a clean virtual environment


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the project wheel, as the images install it.

    The wheel is built from this checkout. Its dependencies are not downloaded (tests stay
    off the network): a .pth file lends the development venv's site-packages, whose own .pth
    files (the editable install among them) are not processed, so the project is imported
    from the wheel alone.
    """
    work = tmp_path_factory.mktemp("image-venv")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(work / "dist"),
            str(REPO),
        ],
        check=True,
        timeout=180,
        capture_output=True,
    )
    wheel = next((work / "dist").glob("iss_tracker-*.whl"))
    venv = work / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()
    (Path(site) / "zz-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def run_in(venv: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / argv[0]), *argv[1:]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(venv)},
    )


@pytest.mark.parametrize("command", [f"iss-{name}" for name in IMAGES] + ["iss-migrate"])
def test_entrypoint_starts_from_the_wheel(image_venv: Path, command: str) -> None:
    result = run_in(image_venv, command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


@pytest.mark.parametrize(
    "package", ["iss_producer", "iss_enricher", "iss_operator", "iss_liveview", "iss_contract"]
)
def test_project_packages_are_imported_from_the_wheel_not_the_checkout(
    image_venv: Path, package: str
) -> None:
    result = run_in(image_venv, "python", "-c", f"import {package}; print({package}.__file__)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(image_venv)), result.stdout


def test_wheel_ships_the_data_files_the_services_read(image_venv: Path) -> None:
    wheel = next((image_venv.parent / "dist").glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for pattern in (
        r"^iss_contract/schemas/.+\.schema\.json$",
        r"^iss_producer/data/.+\.tle$",
        r"^iss_cli/data/.+\.tle$",
        r"^iss_liveview/static/index\.html$",
        r"^iss_enricher/storage/migrations/.+\.sql$",
    ):
        assert any(re.match(pattern, n) for n in names), pattern


def test_pass_predictions_run_from_the_wheel_with_its_shipped_tle(image_venv: Path) -> None:
    result = run_in(
        image_venv,
        "iss-tracker",
        "passes",
        "--lat=51.5",
        "--lon=-0.13",
        "--start=2026-09-16T21:00:00Z",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert '"norad_id": 25544' in result.stdout


def test_enricher_accepts_the_cluster_flags_the_chart_passes(image_venv: Path) -> None:
    template = (REPO / "charts" / "iss-tracker" / "templates" / "enricher.yaml").read_text()
    flags = set(re.findall(r"- (--[a-z-]+)=", template))
    assert flags == {"--workers-per-process", "--process-id", "--addresses"}
    help_text = run_in(image_venv, "iss-enricher", "--help").stdout
    for flag in flags:
        assert flag in help_text


# Builds with no registry


def test_dockerfile_pulls_no_frontend_from_a_registry() -> None:
    """A `# syntax=` line makes BuildKit fetch its Dockerfile frontend image from a registry."""
    for path in sorted(DOCKERFILE.parent.rglob("Dockerfile")):
        for line in path.read_text().splitlines():
            assert not re.match(r"#\s*syntax\s*=", line, re.IGNORECASE), f"{path}: {line}"


def test_every_pip_install_may_trust_the_machine_ca_bundle_without_keeping_it() -> None:
    _, stages = parse_dockerfile(DOCKERFILE.read_text())
    pip_steps = [arg for s in stages for kw, arg in s.instructions if kw == "RUN" and "pip" in arg]
    assert pip_steps
    for arg in pip_steps:
        assert arg.startswith("--mount=type=secret,id=ca "), arg
        assert "PIP_CERT=/run/secrets/ca" in arg, arg
    for stage in stages:
        for keyword, arg in stage.instructions:
            if keyword in {"ENV", "COPY", "ADD"}:
                assert "ca-certificates.crt" not in arg, arg
                assert "/run/secrets" not in arg, arg


@pytest.mark.parametrize(
    ("image", "uid"), [("postgres", 1000), ("prometheus", 65534), ("pause", 65535)]
)
def test_local_service_images_run_as_the_uid_the_chart_sets(image: str, uid: int) -> None:
    _, stages = parse_dockerfile((DOCKERFILE.parent / image / "Dockerfile").read_text())
    assert stages[-1].last("USER") == f"{uid}:{uid}"


def test_chart_pod_users_match_the_local_service_images() -> None:
    templates = REPO / "charts" / "iss-tracker" / "templates"
    assert "runAsUser: 1000\n" in (templates / "timescaledb.yaml").read_text()
    assert "runAsUser: 65534\n" in (templates / "prometheus.yaml").read_text()
