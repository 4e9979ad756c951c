"""Apache Kafka, one node in KRaft combined mode, from the Maven Central artifacts."""

from __future__ import annotations

import base64
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from iss_contract.limits import MAX_MESSAGE_BYTES
from iss_devstack.errors import DevstackError
from iss_devstack.procs import Process, free_port, port_open, run
from iss_devstack.progress import say, step
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


@dataclass(frozen=True)
class SecureListener:
    """A second listener, SASL_SSL with SCRAM-SHA-512, and ACLs enforced on it.

    `keystore` is one PEM file holding the broker's certificate chain and its unencrypted PKCS#8
    key. The plaintext listener stays for administration: its clients (ANONYMOUS) are super users.
    """

    port: int
    keystore: Path


class Kafka:
    """A single-node KRaft broker bound to 127.0.0.1, with its data in `data_dir`.

    A second listener, also on 127.0.0.1, advertises the local node's address (`node_port`):
    pods on the node reach it there through the node's forwarder (iss_devstack.nodeforward),
    and get that address back in metadata, where 127.0.0.1 would be their own loopback.
    """

    def __init__(
        self,
        settings: DevstackSettings,
        data_dir: Path,
        port: int,
        controller_port: int,
        node_port: int | None = None,
        secure: SecureListener | None = None,
    ) -> None:
        self.settings = settings
        self.secure = secure
        self.data_dir = data_dir
        self.port = port
        self.controller_port = controller_port
        self.node_port = node_port if node_port is not None else settings.kafka_node_port
        self.process = Process(
            name="kafka",
            argv=[],
            log_path=data_dir / "kafka.log",
            pid_path=data_dir / "kafka.pid",
        )

    @classmethod
    def for_devstack(cls, settings: DevstackSettings) -> Kafka:
        """The broker of the local stack (`make up`), on its configured ports."""
        return cls(
            settings,
            settings.state_dir / "kafka",
            settings.kafka_port,
            settings.kafka_controller_port,
            settings.kafka_node_port,
        )

    @classmethod
    def for_tests(cls, settings: DevstackSettings, data_dir: Path) -> Kafka:
        broker = cls(settings, data_dir, free_port(), free_port(), free_port())
        broker.free_ports = True
        return broker

    free_ports = False
    """The ports were picked free, so another can be picked when one is taken before the
    broker binds it (another process on the machine may pick the same free port)."""

    PORT_ATTEMPTS = 3

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def node_bootstrap(self) -> str:
        """bootstrap.servers for pods on the local node."""
        return f"{self.settings.node_address}:{self.node_port}"

    @property
    def secure_bootstrap(self) -> str:
        if self.secure is None:
            raise DevstackError("this broker has no SASL_SSL listener")
        return f"127.0.0.1:{self.secure.port}"

    def _secure_lines(self) -> list[str]:
        if self.secure is None:
            return []
        return [
            "sasl.enabled.mechanisms=SCRAM-SHA-512",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
            "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            "listener.name.sasl_ssl.ssl.keystore.type=PEM",
            f"listener.name.sasl_ssl.ssl.keystore.location={self.secure.keystore}",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found=false",
            "super.users=User:ANONYMOUS",
        ]

    def _write_config(self) -> Path:
        logs = self.data_dir / "logs"
        config = self.data_dir / "server.properties"
        listeners = [f"PLAINTEXT://127.0.0.1:{self.port}", f"NODE://127.0.0.1:{self.node_port}"]
        advertised = [f"PLAINTEXT://127.0.0.1:{self.port}", f"NODE://{self.node_bootstrap}"]
        protocols = "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,NODE:PLAINTEXT"
        if self.secure is not None:
            secure = f"SASL_SSL://127.0.0.1:{self.secure.port}"
            listeners.append(secure)
            advertised.append(secure)
            protocols += ",SASL_SSL:SASL_SSL"
        config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners={','.join(listeners)},"
                    f"CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners={','.join(advertised)}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"listener.security.protocol.map={protocols}",
                    *self._secure_lines(),
                    f"log.dirs={logs}",
                    "num.partitions=1",
                    # Every topic's max.message.bytes (iss_contract.limits), set explicitly on
                    # the topics it creates as well.
                    f"message.max.bytes={MAX_MESSAGE_BYTES}",
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
        for attempt in range(1, self.PORT_ATTEMPTS + 1):
            log = self.process.log_path
            seen = log.stat().st_size if log.exists() else 0
            try:
                self._start(timeout)
                return
            except DevstackError:
                with log.open("rb") as handle:
                    handle.seek(seen)
                    taken = b"Address already in use" in handle.read()
                if not (self.free_ports and taken and attempt < self.PORT_ATTEMPTS):
                    raise
                self.port, self.controller_port, self.node_port = (
                    free_port(),
                    free_port(),
                    free_port(),
                )
                say(f"a port of Kafka was taken before it bound it; trying {self.bootstrap}")

    def _start(self, timeout: float) -> None:
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
        topic_config = {"max.message.bytes": str(MAX_MESSAGE_BYTES), **(config or {})}
        topic = NewTopic(name, num_partitions=partitions, replication_factor=1, config=topic_config)
        for future in admin.create_topics([topic], operation_timeout=30).values():
            try:
                future.result(timeout=60)
            except Exception as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise


def main() -> None:
    """Run a broker in the foreground on the `make up` ports: `python -m iss_devstack.kafka`."""
    kafka = Kafka.for_devstack(DevstackSettings())
    kafka.start()
    print(f"Kafka is up: bootstrap.servers={kafka.bootstrap} (Ctrl-C stops it)", file=sys.stderr)
    try:
        kafka.process.wait_until_interrupted()
    finally:
        kafka.stop()


if __name__ == "__main__":
    main()
