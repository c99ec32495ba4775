"""TLS for the sandbox: a throwaway CA and a server certificate for 127.0.0.1 / localhost.

MSAL refuses an authority that is not https, so the sandbox identity platform (and, for symmetry, its
Graph and Dataverse servers) serve TLS. pmsync trusts this CA only when a source's ``ca_bundle`` points
at the file :func:`write_ca_bundle` wrote; nothing is added to the system trust store.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class SandboxTLS:
    """PEM material for the sandbox: the CA certificate clients trust, and the server's cert + key."""

    ca_cert_pem: bytes
    server_cert_pem: bytes
    server_key_pem: bytes

    def write_ca_bundle(self, path: Path) -> Path:
        """Write the CA certificate (what ``ca_bundle:`` points at) to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.ca_cert_pem)
        return path

    def server_context(self) -> ssl.SSLContext:
        """An SSL context serving the server certificate (chain: server cert, then the CA)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        # ssl can only load a chain from files; write them to a private temp dir and remove it at once.
        with tempfile.TemporaryDirectory(prefix="pmsync-tls-") as folder:
            cert_path = Path(folder) / "server.pem"
            key_path = Path(folder) / "server.key"
            cert_path.write_bytes(self.server_cert_pem + self.ca_cert_pem)
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(self.server_key_pem)
            context.load_cert_chain(cert_path, key_path)
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pmsync sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def generate_sandbox_tls(*, valid_days: int = 30) -> SandboxTLS:
    """A fresh CA and a server certificate for ``127.0.0.1``, ``::1`` and ``localhost``.

    EC P-256 keys keep generation fast (milliseconds), so every sandbox start gets its own CA.
    """
    now = datetime.now(UTC) - timedelta(minutes=5)  # tolerate small clock skew between processes
    until = now + timedelta(days=valid_days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("pmsync sandbox CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return SandboxTLS(
        ca_cert_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        server_cert_pem=server_cert.public_bytes(serialization.Encoding.PEM),
        server_key_pem=server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
