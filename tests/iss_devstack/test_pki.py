from __future__ import annotations

import base64
import ipaddress
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from iss_devstack.pki import ensure_pki, kubeconfig_text

pytestmark = pytest.mark.unit


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_the_serving_certificate_names_loopback_and_the_in_cluster_service(
    tmp_path: Path,
) -> None:
    pki = ensure_pki(tmp_path / "pki")

    names = (
        load(pki.serving_cert).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    )
    assert {"localhost", "kubernetes.default.svc"} <= set(names.get_values_for_type(x509.DNSName))
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)


def test_every_certificate_is_signed_by_the_ca(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki")
    ca = load(pki.ca_cert)

    for path in (pki.serving_cert, pki.admin_cert, pki.controller_manager_cert):
        cert = load(path)
        cert.verify_directly_issued_by(ca)
        assert cert.not_valid_after_utc > ca.not_valid_before_utc


def test_the_admin_client_is_in_system_masters_and_may_only_authenticate_clients(
    tmp_path: Path,
) -> None:
    admin = load(ensure_pki(tmp_path / "pki").admin_cert)

    groups = admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert [g.value for g in groups] == ["system:masters"]
    usages = admin.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_a_second_call_keeps_the_existing_certificates(tmp_path: Path) -> None:
    first = ensure_pki(tmp_path / "pki")
    ca_before = first.ca_cert.read_bytes()

    second = ensure_pki(tmp_path / "pki")

    assert second.ca_cert.read_bytes() == ca_before


def test_private_keys_are_readable_only_by_their_owner(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki")

    for key in (pki.ca_key, pki.serving_key, pki.admin_key, pki.service_account_key):
        assert key.stat().st_mode & 0o077 == 0


def test_the_kubeconfig_carries_the_server_and_inlined_credentials(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki")

    config = yaml.safe_load(
        kubeconfig_text(
            server="https://127.0.0.1:6443",
            ca_cert=pki.ca_cert,
            client_cert=pki.admin_cert,
            client_key=pki.admin_key,
            user="admin",
        )
    )

    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == "https://127.0.0.1:6443"
    assert config["current-context"] == config["contexts"][0]["name"]
    user = config["users"][0]["user"]
    assert set(user) == {"client-certificate-data", "client-key-data"}
    assert base64.b64decode(cluster["certificate-authority-data"]) == pki.ca_cert.read_bytes()
