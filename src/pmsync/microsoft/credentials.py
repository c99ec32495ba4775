"""The app credential MSAL needs, read from the config: a client secret (value or file) or a
certificate (PEM with key and certificate, or .pfx), registered for log redaction on the way.
An expired certificate is refused here, with its expiry date, before any sign-in is attempted."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pmsync.errors import AuthError, ConfigError
from pmsync.logs import register_secret
from pmsync.microsoft.settings import MicrosoftAppSettings

_PEM_KEY = re.compile(
    rb"-----BEGIN (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----.+?"
    rb"-----END (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----",
    re.S,
)


def resolve_path(path: Path, base_dir: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else base_dir / path


def _certificate_credential(settings: MicrosoftAppSettings, *, source: str, base_dir: Path) -> dict[str, Any]:
    assert settings.certificate_file is not None
    path = resolve_path(settings.certificate_file, base_dir)
    passphrase = settings.certificate_password.get_secret_value() if settings.certificate_password else None
    register_secret(passphrase)
    if path.suffix.lower() in (".pfx", ".p12"):
        if not path.is_file():
            raise ConfigError(
                f"certificate file {str(path)!r} not found", source=source, record="certificate_file"
            )
        credential: dict[str, Any] = {"private_key_pfx_path": str(path), "public_certificate": True}
        if passphrase:
            credential["passphrase"] = passphrase
        return credential
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read certificate file {str(path)!r}: {exc.strerror}",
            source=source,
            record="certificate_file",
        ) from None
    key_match = _PEM_KEY.search(data)
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if key_match is None or not certs:
        raise ConfigError(
            f"certificate file {str(path)!r} must hold the PEM private key and the PEM certificate",
            source=source,
            record="certificate_file",
            hint="e.g. cat app.key app.crt > app.pem; or use a .pfx file",
        )
    key_pem = key_match.group(0)
    register_secret(key_pem.decode())
    try:
        serialization.load_pem_private_key(key_pem, passphrase.encode() if passphrase else None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"cannot load the private key in {str(path)!r}: {exc}",
            source=source,
            record="certificate_file",
            hint="is certificate_password right?",
        ) from None
    cert = certs[0]
    if cert.not_valid_after_utc < datetime.now(UTC):
        raise AuthError(
            f"the certificate for app {settings.client_id!r} expired on "
            f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC (subject {cert.subject.rfc4514_string()})",
            source=source,
            record=str(path),
            hint="create a new certificate, upload it to the app registration, point certificate_file at it",
        )
    credential = {
        "private_key": key_pem.decode(),
        "public_certificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
    }
    if passphrase:
        credential["passphrase"] = passphrase
    return credential


def client_credential(settings: MicrosoftAppSettings, *, source: str, base_dir: Path) -> str | dict[str, Any]:
    if settings.certificate_file is not None:
        return _certificate_credential(settings, source=source, base_dir=base_dir)
    if settings.client_secret is not None:
        secret = settings.client_secret.get_secret_value()
    else:
        assert settings.client_secret_file is not None
        path = resolve_path(settings.client_secret_file, base_dir)
        try:
            secret = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the client secret from {str(path)!r}: {exc.strerror}",
                source=source,
                record="client_secret_file",
            ) from None
    if not secret:
        raise ConfigError("the client secret is empty", source=source, record="client_secret")
    register_secret(secret)
    return secret
