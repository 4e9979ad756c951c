"""The librdkafka properties of a client of a SASL_SSL + SCRAM cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from iss_runtime.kafka_auth import sasl_config

pytestmark = pytest.mark.unit


def test_a_plaintext_cluster_needs_no_properties() -> None:
    assert sasl_config(None, None) == {}


def test_a_username_means_scram_over_sasl_ssl_with_the_password_revealed_only_here() -> None:
    config = sasl_config("enricher", SecretStr("p@ss"), None, Path("/ca/ca.crt"))

    assert config == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "SCRAM-SHA-512",
        "sasl.username": "enricher",
        "sasl.password": "p@ss",
        "ssl.ca.location": "/ca/ca.crt",
    }


def test_an_explicit_security_protocol_wins() -> None:
    config = sasl_config("enricher", SecretStr("x"), "SASL_PLAINTEXT")

    assert config["security.protocol"] == "SASL_PLAINTEXT"
    assert "ssl.ca.location" not in config
