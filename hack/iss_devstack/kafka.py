"""Apache Kafka, one node in KRaft combined mode, from the Maven Central artifacts."""

from __future__ import annotations

import base64
import shutil
import sys
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from iss_devstack.errors import DevstackError
from iss_devstack.procs import Process, free_port, port_open, run
from iss_devstack.progress import step
from iss_devstack.settings import REPO_ROOT, DevstackSettings

_LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
logger.kafka.name = kafka
logger.kafka.level = warn
logger.apache.name = org.apache.kafka
logger.apache.level = warn
"""


def ensure_installed(settings: DevstackSettings) -> Path:
    """The folder of the broker's jars, resolved with Maven on first use and cached by version."""
    home = settings.cache("kafka", settings.kafka_version)
    libs = home / "libs"
    marker = home / ".complete"
    if marker.exists():
        return libs
    if shutil.which("mvn") is None or shutil.which("java") is None:
        raise DevstackError(
            "Kafka needs Java 17 and Maven: "
            "run `sudo apt-get install -y openjdk-17-jre-headless maven`"
        )
    with step(f"resolving Apache Kafka {settings.kafka_version} from Maven Central into {libs}"):
        shutil.rmtree(libs, ignore_errors=True)
        run(
            [
                "mvn",
                "-B",
                "-q",
                "-f",
                REPO_ROOT / "hack" / "kafka" / "pom.xml",
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-Dkafka.version={settings.kafka_version}",
                f"-DoutputDirectory={libs}",
            ],
            what="mvn dependency:copy-dependencies (Kafka jars)",
            timeout=1800,
        )
    marker.write_text(settings.kafka_version + "\n")
    return libs


class Kafka:
    """A single-node KRaft broker bound to 127.0.0.1, with its data in `data_dir`."""

    def __init__(
        self, settings: DevstackSettings, data_dir: Path, port: int, controller_port: int
    ) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.port = port
        self.controller_port = controller_port
        self.process = Process(
            name="kafka",
            argv=[],
            log_path=data_dir / "kafka.log",
            pid_path=data_dir / "kafka.pid",
        )

    @classmethod
    def for_tests(cls, settings: DevstackSettings, data_dir: Path) -> Kafka:
        return cls(settings, data_dir, free_port(), free_port())

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _write_config(self) -> Path:
        logs = self.data_dir / "logs"
        config = self.data_dir / "server.properties"
        config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},"
                    f"CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                    f"log.dirs={logs}",
                    "num.partitions=1",
                    "auto.create.topics.enable=true",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=4",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "log.retention.hours=24",
                    "",
                ]
            )
        )
        (self.data_dir / "log4j2.properties").write_text(_LOG4J2)
        return config

    def _java(self, libs: Path, main: str, *args: str, heap: str) -> list[str]:
        return [
            "java", f"-Xmx{heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
            "-cp", f"{libs}/*", main, *args,
        ]  # fmt: skip

    def start(self, timeout: float = 120.0) -> None:
        libs = ensure_installed(self.settings)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if port_open(self.port):
            raise DevstackError(f"port {self.port} is already in use; is another Kafka running?")
        config = self._write_config()
        if not (self.data_dir / "logs" / "meta.properties").exists():
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            run(
                self._java(
                    libs, "kafka.tools.StorageTool", "format",
                    # `=`: an id may start with "-", which would read as an option.
                    f"--cluster-id={cluster_id}", "-c", str(config), heap="256m",
                ),
                what="formatting Kafka storage",
                timeout=180,
            )  # fmt: skip
        self.process.argv = self._java(libs, "kafka.Kafka", str(config), heap="768m")
        with step(f"starting Kafka {self.settings.kafka_version} on {self.bootstrap}"):
            self.process.start()
            self.process.wait_until(self.ready, timeout, "the broker answers metadata requests")

    def ready(self) -> bool:
        if not port_open(self.port):
            return False
        admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 3})
        metadata = admin.list_topics(timeout=2)
        return bool(metadata.brokers)

    def stop(self) -> None:
        self.process.stop(grace=30)

    def create_topic(
        self, name: str, partitions: int = 1, config: dict[str, str] | None = None
    ) -> None:
        admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 3})
        topic = NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})
        for future in admin.create_topics([topic], operation_timeout=30).values():
            try:
                future.result(timeout=60)
            except Exception as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise


def main() -> None:
    """Run a broker in the foreground on the `make up` ports: `python -m iss_devstack.kafka`."""
    from iss_devstack.stack import services  # the stack module builds on this one

    kafka = services(DevstackSettings())[0]
    kafka.start()
    print(f"Kafka is up: bootstrap.servers={kafka.bootstrap} (Ctrl-C stops it)", file=sys.stderr)
    try:
        kafka.process.wait_until_interrupted()
    finally:
        kafka.stop()


if __name__ == "__main__":
    main()
