"""Session-wide real services for the suite, and per-test isolation on top of them.

Every service is a real local process on a free 127.0.0.1 port, started once per session by
`iss_devstack`. A fixture that cannot start its service raises, so the tests that need it fail
(they never skip).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from iss_devstack.kafka import Kafka
from iss_devstack.postgres import Postgres
from iss_devstack.prometheus import Prometheus
from iss_devstack.settings import DevstackSettings
from iss_devstack.testrun import STREAMS, stream_of

from .support.kafka_security import secure_kafka
from .support.names import unique

__all__ = ["secure_kafka"]

if TYPE_CHECKING:
    from iss_devstack.controlplane import ControlPlane
    from iss_devstack.docker import Docker


def pytest_configure(config: pytest.Config) -> None:
    for stream in STREAMS:
        config.addinivalue_line("markers", f"{stream.markers}: set by tests/conftest.py")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its `make test` stream (`iss_devstack.testrun.stream_of`), before
    `-m` selects (hence `tryfirst`)."""
    here = Path(__file__).parent
    for item in items:
        parts = item.path.relative_to(here).parts
        stream = stream_of(parts, (mark.name for mark in item.iter_markers()))
        item.add_marker(f"stream_{stream}")


@pytest.fixture(scope="session")
def devstack_settings() -> DevstackSettings:
    return DevstackSettings()


@pytest.fixture(scope="session")
def kafka(
    devstack_settings: DevstackSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Kafka]:
    broker = Kafka.for_tests(devstack_settings, tmp_path_factory.mktemp("kafka"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def make_topic(kafka: Kafka) -> Callable[..., str]:
    """Create a topic with a name no other test uses."""

    def create(partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = unique("test")
        kafka.create_topic(name, partitions, config)
        return name

    return create


@pytest.fixture(scope="session")
def postgres(
    devstack_settings: DevstackSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Postgres]:
    server = Postgres.for_tests(devstack_settings, tmp_path_factory.mktemp("postgres"))
    server.start()
    yield server
    server.discard()


@pytest.fixture
def pg_dsn(postgres: Postgres) -> str:
    """The DSN of a fresh, empty database for this test alone."""
    return postgres.create_database(unique("test").replace("-", "_"))


@pytest.fixture(scope="session")
def prometheus(
    devstack_settings: DevstackSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prometheus]:
    server = Prometheus.for_tests(devstack_settings, tmp_path_factory.mktemp("prometheus"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def strimzi_crds_dir(devstack_settings: DevstackSettings) -> Path:
    path = devstack_settings.strimzi_crds_dir
    assert (path / "040-Crd-kafka.yaml").is_file(), (
        f"the Strimzi 1.2.0 CRDs are not in {path}: set STRIMZI_CRDS_DIR to their folder"
    )
    return path


@pytest.fixture(scope="session")
def prometheus_operator_crds_dir(devstack_settings: DevstackSettings) -> Path:
    path = devstack_settings.prometheus_operator_crds_dir
    assert (path / "monitoring.coreos.com_podmonitors.yaml").is_file(), (
        f"the prometheus-operator 0.93.0 CRDs are not in {path}: "
        "set PROMETHEUS_OPERATOR_CRDS_DIR to their folder"
    )
    return path


@pytest.fixture(scope="session")
def controlplane(
    devstack_settings: DevstackSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ControlPlane]:
    from iss_devstack.controlplane import ControlPlane

    plane = ControlPlane.for_tests(devstack_settings, tmp_path_factory.mktemp("controlplane"))
    plane.start()
    yield plane
    plane.stop()


@pytest.fixture
def namespace(controlplane: ControlPlane) -> Iterator[str]:
    """A namespace of this test's own on the control plane, deleted afterwards."""
    name = unique("test")
    controlplane.create_namespace(name)
    yield name
    controlplane.delete_namespace(name)


@pytest.fixture(scope="session")
def docker_engine(devstack_settings: DevstackSettings) -> Iterator[Docker]:
    """The stack's own dockerd (the one `make images` uses); stopped again if this session
    started it."""
    from iss_devstack.docker import Docker

    engine = Docker(devstack_settings)
    already = engine.answers()
    engine.start()
    yield engine
    if not already:
        engine.stop()


@pytest.fixture(scope="session")
def local_images(docker_engine: Docker, devstack_settings: DevstackSettings) -> dict[str, str]:
    """Every locally built image, name -> reference: built, or reused from the layer cache."""
    from iss_devstack.images import build_all

    return build_all(devstack_settings, docker_engine)
