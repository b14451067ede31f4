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
