"""TLS material for the embedded default: a self-signed server certificate.

ECDSA P-256 with SANs for localhost, 127.0.0.1 and ::1, valid for one year.
Good for one machine and for tests; production brings its own certificate
(``check_production`` in ``config.py`` insists).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from claimbridge.crypto import _primitives
from claimbridge.errors import ValidationFailed

VALIDITY = timedelta(days=365)
HOSTNAMES = ("localhost",)
ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class CertificatePair:
    cert_pem: bytes
    key_pem: bytes

    def __repr__(self) -> str:  # never print the private key
        return "CertificatePair(cert_pem=…, key_pem=<redacted>)"


def self_signed_certificate(*, now: datetime, common_name: str = "claimbridge") -> CertificatePair:
    key = _primitives.p256_private_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    san = x509.SubjectAlternativeName(
        [x509.DNSName(host) for host in HOSTNAMES]
        + [x509.IPAddress(ipaddress.ip_address(addr)) for addr in ADDRESSES]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, _primitives.SHA256())
    )
    return CertificatePair(
        cert_pem=cert.public_bytes(_primitives.PEM),
        key_pem=_primitives.private_key_pem(key),
    )


def certificate_fingerprint(cert_pem: bytes) -> str:
    """SHA-256 fingerprint, colon-separated, as browsers and openssl show it."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    return cert.fingerprint(_primitives.SHA256()).hex(":").upper()


def certificate_expiry(cert_pem: bytes) -> datetime:
    return x509.load_pem_x509_certificate(cert_pem).not_valid_after_utc


@dataclass(frozen=True, slots=True)
class ClientCertificateInfo:
    fingerprint_sha256: str
    subject: str
    not_after: datetime
    pem: str


def fingerprint_der(der: bytes) -> str:
    """Lower-case hex SHA-256 of a DER certificate: how a machine client is known."""
    return _primitives.sha256_hex(der)


def read_client_certificate(pem: str, *, now: datetime) -> ClientCertificateInfo:
    """Check a machine client's certificate before it is registered."""
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise ValidationFailed("Not a PEM certificate.", where="certificate_pem") from None
    if cert.not_valid_after_utc <= now:
        raise ValidationFailed("The certificate has expired.", where="certificate_pem")
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is not None and constraints.ca:
        raise ValidationFailed(
            "Register the client's own certificate, not a CA.", where="certificate_pem"
        )
    return ClientCertificateInfo(
        fingerprint_sha256=fingerprint_der(cert.public_bytes(_primitives.DER)),
        subject=cert.subject.rfc4514_string(),
        not_after=cert.not_valid_after_utc,
        pem=cert.public_bytes(_primitives.PEM).decode(),
    )


def self_signed_client_certificate(*, now: datetime, common_name: str) -> CertificatePair:
    """A client certificate for a machine (``claimbridge send``), self-signed."""
    key = _primitives.p256_private_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, _primitives.SHA256())
    )
    return CertificatePair(
        cert_pem=cert.public_bytes(_primitives.PEM), key_pem=_primitives.private_key_pem(key)
    )
