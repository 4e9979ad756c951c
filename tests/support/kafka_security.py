"""A broker with a SASL_SSL + SCRAM-SHA-512 listener and ACLs, its certificates made for the
run (iss_devstack.kafka_tls); shared by the security tests of every Kafka client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from iss_devstack.kafka import Kafka, SecureListener
from iss_devstack.kafka_tls import Certificates, make_certificates
from iss_devstack.settings import DevstackSettings
from tests.support.ports import free_port


class SecureKafka:
    """The running broker and its administration over the plaintext listener."""

    def __init__(self, broker: Kafka, certificates: Certificates) -> None:
        self.broker = broker
        self.certificates = certificates
        self.admin = AdminClient({"bootstrap.servers": broker.bootstrap, "log_level": 3})

    @property
    def bootstrap(self) -> str:
        return self.broker.secure_bootstrap

    def add_user(self, name: str, password: str) -> None:
        info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096)
        upsert = UserScramCredentialUpsertion(name, info, password.encode())
        for future in self.admin.alter_user_scram_credentials([upsert]).values():
            future.result(timeout=30)

    def allow(
        self,
        user: str,
        name: str,
        *operations: AclOperation,
        resource: ResourceType = ResourceType.TOPIC,
        pattern: ResourcePatternType = ResourcePatternType.LITERAL,
    ) -> None:
        """ALLOW ACLs for `user` on the topic (or `resource`) `name` (or names with that prefix)."""
        bindings = [
            AclBinding(
                resource,
                name,
                pattern,
                f"User:{user}",
                "*",
                operation,
                AclPermissionType.ALLOW,
            )
            for operation in operations
        ]
        for future in self.admin.create_acls(bindings).values():
            future.result(timeout=30)


def start_secure_kafka(work: Path) -> SecureKafka:
    """A broker on free ports with its certificates made in `work`, started; stop its `broker`."""
    certificates = make_certificates(work)
    broker = Kafka(
        DevstackSettings(),
        work / "broker",
        free_port(),
        free_port(),
        free_port(),
        secure=SecureListener(port=free_port(), keystore=certificates.keystore),
    )
    broker.start()
    return SecureKafka(broker, certificates)


@pytest.fixture(scope="session")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    secure = start_secure_kafka(tmp_path_factory.mktemp("secure-kafka"))
    try:
        yield secure
    finally:
        secure.broker.stop()
