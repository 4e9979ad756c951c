"""Certificates and keys of the local control plane, and the kubeconfig that uses them.

One private CA signs the API server's serving certificate and the client certificates of the
administrator and of kube-controller-manager. A separate key pair signs service-account tokens.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=365)
SERVING_DNS_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
SERVING_IPS = ("127.0.0.1", "10.0.0.1")
"""Loopback, and the first address of the service range: the in-cluster `kubernetes` Service."""

ADMIN_USER = "iss-devstack-admin"
ADMIN_GROUP = "system:masters"
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
"""Bound to its ClusterRole by the API server's bootstrap RBAC policy."""


@dataclass(frozen=True)
class Pki:
    """Where the PEM files of one control plane live."""

    directory: Path

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca.key"

    @property
    def serving_cert(self) -> Path:
        return self.directory / "apiserver.crt"

    @property
    def serving_key(self) -> Path:
        return self.directory / "apiserver.key"

    @property
    def admin_cert(self) -> Path:
        return self.directory / "admin.crt"

    @property
    def admin_key(self) -> Path:
        return self.directory / "admin.key"

    @property
    def controller_manager_cert(self) -> Path:
        return self.directory / "controller-manager.crt"

    @property
    def controller_manager_key(self) -> Path:
        return self.directory / "controller-manager.key"

    @property
    def service_account_key(self) -> Path:
        """Private key that signs service-account tokens."""
        return self.directory / "sa.key"

    @property
    def service_account_pub(self) -> Path:
        """Public key the API server verifies service-account tokens with."""
        return self.directory / "sa.pub"

    def complete(self) -> bool:
        files = (
            self.ca_cert,
            self.serving_cert,
            self.serving_key,
            self.admin_cert,
            self.admin_key,
            self.controller_manager_cert,
            self.controller_manager_key,
            self.service_account_key,
            self.service_account_pub,
        )
        return all(path.exists() for path in files)


def ensure_pki(directory: Path) -> Pki:
    """Generate the control plane's certificates once; later calls reuse them."""
    pki = Pki(directory)
    if pki.complete():
        return pki
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _ca_certificate(ca_key)
    _write_cert(pki.ca_cert, ca_cert)
    _write_key(pki.ca_key, ca_key)

    serving_key = ec.generate_private_key(ec.SECP256R1())
    serving = _leaf(
        ca_cert,
        ca_key,
        serving_key,
        common_name="kube-apiserver",
        organization=None,
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
        san=x509.SubjectAlternativeName(
            [x509.DNSName(name) for name in SERVING_DNS_NAMES]
            + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVING_IPS]
        ),
    )
    _write_cert(pki.serving_cert, serving)
    _write_key(pki.serving_key, serving_key)

    for cert_path, key_path, user, group in (
        (pki.admin_cert, pki.admin_key, ADMIN_USER, ADMIN_GROUP),
        (pki.controller_manager_cert, pki.controller_manager_key, CONTROLLER_MANAGER_USER, None),
    ):
        client_key = ec.generate_private_key(ec.SECP256R1())
        client = _leaf(
            ca_cert,
            ca_key,
            client_key,
            common_name=user,
            organization=group,
            usage=ExtendedKeyUsageOID.CLIENT_AUTH,
            san=None,
        )
        _write_cert(cert_path, client)
        _write_key(key_path, client_key)

    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write_key(pki.service_account_key, sa_key)
    pki.service_account_pub.write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return pki


def kubeconfig_text(
    *, server: str, ca_cert: Path, client_cert: Path, client_key: Path, user: str
) -> str:
    """A self-contained kubeconfig (certificates inlined) for one client identity."""

    def inline(path: Path) -> str:
        return base64.b64encode(path.read_bytes()).decode("ascii")

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "iss-devstack",
                "cluster": {"server": server, "certificate-authority-data": inline(ca_cert)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": inline(client_cert),
                    "client-key-data": inline(client_key),
                },
            }
        ],
        "contexts": [
            {
                "name": "iss-devstack",
                "context": {"cluster": "iss-devstack", "user": user, "namespace": "default"},
            }
        ],
        "current-context": "iss-devstack",
        "preferences": {},
    }
    text: str = yaml.safe_dump(config, sort_keys=False)
    return text


def _ca_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "iss-devstack-ca")])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _leaf(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    key: ec.EllipticCurvePrivateKey,
    *,
    common_name: str,
    organization: str | None,
    usage: x509.ObjectIdentifier,
    san: x509.SubjectAlternativeName | None,
) -> x509.Certificate:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization is not None:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attributes))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if san is not None:
        builder = builder.add_extension(san, critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    path.touch(mode=0o600)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def ensure_client_cert(
    pki: Pki, name: str, *, user: str, group: str | None = None
) -> tuple[Path, Path]:
    """A client certificate (and key) for one more identity, signed by the control plane's CA.

    The local node's kubelet, kube-proxy, kube-scheduler and DNS server use these. Made once;
    `name` is the file stem in the PKI folder.
    """
    cert_path = pki.directory / f"{name}.crt"
    key_path = pki.directory / f"{name}.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    ca_cert = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{pki.ca_key} is not the EC key this module writes")
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _leaf(
        ca_cert,
        ca_key,
        client_key,
        common_name=user,
        organization=group,
        usage=ExtendedKeyUsageOID.CLIENT_AUTH,
        san=None,
    )
    _write_key(key_path, client_key)
    _write_cert(cert_path, client)
    return cert_path, key_path
