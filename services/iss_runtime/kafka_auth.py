"""librdkafka settings for a Kafka cluster that asks for SASL_SSL with SCRAM-SHA-512."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr


def sasl_config(
    username: str | None,
    password: SecretStr | None,
    security_protocol: str | None = None,
    ca_location: Path | None = None,
) -> dict[str, str]:
    """The client properties: nothing for a plaintext cluster; with a username, SCRAM-SHA-512
    over SASL_SSL (unless `security_protocol` says otherwise), trusting `ca_location` when set.
    The password leaves its SecretStr only here, into the client's configuration."""
    config: dict[str, str] = {}
    if security_protocol:
        config["security.protocol"] = security_protocol
    if username:
        config["sasl.mechanisms"] = "SCRAM-SHA-512"
        config["sasl.username"] = username
        if password is not None:
            config["sasl.password"] = password.get_secret_value()
        config.setdefault("security.protocol", "SASL_SSL")
    if ca_location is not None:
        config["ssl.ca.location"] = str(ca_location)
    return config
