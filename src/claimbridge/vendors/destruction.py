"""The certificate of destruction: what was destroyed, when, and the proof, signed.

A certificate is one JSON object, in the same envelope as a batch receipt
(``exchange/documents.py``)::

    {"document": {...}, "key_id": "9f2c...", "kind": "claimbridge/certificate-of-destruction/v1",
     "signature": "base64..."}

signed with the server's Ed25519 key (the key that signs receipts and
audit checkpoints; ``claimbridge audit public-key`` prints it) over
``kind``, a zero byte and the canonical bytes of ``document``: keys
sorted, no whitespace, UTF-8, integers only (RFC 8785 for these values).

Unlike a receipt, a certificate is also *stored and exchanged in that
canonical form*, byte for byte (no indentation, no trailing newline), and
``verify_certificate`` accepts only that form: it parses the file, encodes
what it read canonically again, and refuses the file unless the two are
identical, before checking the signature. So any change to any byte of a
certificate fails verification, including changes a JSON reader would
forgive (whitespace, key order, escapes such as ``\\u0041`` for ``A``, a
duplicated key, a second base64 spelling of the same signature), not only
changes to what it says. Anyone can re-create the bytes in another
language and check them with nothing but the public key.

IMPORTANT: the kind, the envelope and the canonical encoding are frozen:
certificates already handed out must keep verifying.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from claimbridge.crypto.errors import SignatureInvalid
from claimbridge.crypto.signing import SigningKey, verify
from claimbridge.errors import InputError

__all__ = [
    "KIND",
    "CertificateInvalid",
    "issue_certificate",
    "key_id_of",
    "read_certificate",
    "verify_certificate",
]

KIND = "claimbridge/certificate-of-destruction/v1"
MAX_CERTIFICATE_BYTES = 4 * 1024 * 1024
_FIELDS = frozenset({"document", "key_id", "kind", "signature"})


class CertificateInvalid(InputError):
    """Not a certificate of destruction in its canonical form, or its signature fails."""

    code = "certificate_invalid"
    public_message = "The certificate of destruction does not verify."


def canonical(value: Any) -> bytes:
    """The canonical bytes of a JSON value: sorted keys, no whitespace, UTF-8."""
    _refuse_floats(value, "certificate")
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def key_id_of(public_key: bytes) -> str:
    """Which key signed: the first 16 bytes of the SHA-256 of the raw public key, in hex."""
    return hashlib.sha256(public_key).digest()[:16].hex()


def issue_certificate(document: Mapping[str, Any], key: SigningKey) -> bytes:
    """The signed certificate, in the exact bytes that are stored and handed out."""
    body = dict(document)
    signature = key.sign(_message(body))
    return canonical(
        {
            "document": body,
            "key_id": key_id_of(key.public_key_bytes()),
            "kind": KIND,
            "signature": base64.b64encode(signature).decode("ascii"),
        }
    )


def read_certificate(raw: bytes) -> dict[str, Any]:
    """The certificate's envelope, checked for form (canonical bytes) but not for its signature."""
    if len(raw) > MAX_CERTIFICATE_BYTES:
        raise CertificateInvalid("The file is too large to be a certificate.", where="certificate")
    try:
        envelope = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CertificateInvalid("The certificate is not JSON.", where="certificate") from None
    if not isinstance(envelope, dict) or set(envelope) != _FIELDS:
        raise CertificateInvalid("Not a certificate envelope.", where="certificate")
    if envelope["kind"] != KIND:
        raise CertificateInvalid(f"Not a {KIND} document.", where="certificate.kind")
    if not isinstance(envelope["document"], dict):
        raise CertificateInvalid("The document is not an object.", where="certificate.document")
    try:
        again = canonical(envelope)
    except (InputError, ValueError):
        raise CertificateInvalid("The certificate holds a number that is not an integer.") from None
    if again != raw:
        raise CertificateInvalid(
            "The certificate is not in its canonical form: its bytes were changed.",
            where="certificate",
        )
    return envelope


def verify_certificate(raw: bytes, public_key: bytes) -> dict[str, Any]:
    """The certificate's document, if ``raw`` is exactly a certificate ``public_key`` signed."""
    envelope = read_certificate(raw)
    if envelope["key_id"] != key_id_of(public_key):
        raise CertificateInvalid(
            "The certificate names another signing key.", where="certificate.key_id"
        )
    signature = _signature(envelope["signature"])
    try:
        verify(public_key, _message(envelope["document"]), signature)
    except SignatureInvalid:
        raise CertificateInvalid(
            "The signature does not verify: the certificate was altered.",
            where="certificate.signature",
        ) from None
    document: dict[str, Any] = envelope["document"]
    return document


def _signature(text: object) -> bytes:
    if not isinstance(text, str):
        raise CertificateInvalid("The signature is not text.", where="certificate.signature")
    try:
        signature = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CertificateInvalid(
            "The signature is not base64.", where="certificate.signature"
        ) from None
    # Base64 has spellings that decode alike (the unused bits of the last
    # digit): only the one ``b64encode`` writes is the certificate's.
    if base64.b64encode(signature).decode("ascii") != text:
        raise CertificateInvalid(
            "The signature is not in canonical base64.", where="certificate.signature"
        )
    return signature


def _message(document: Mapping[str, Any]) -> bytes:
    return KIND.encode("ascii") + b"\x00" + canonical(document)


def _refuse_floats(value: object, where: str) -> None:
    if isinstance(value, float):
        raise InputError("Numbers in a certificate are integers.", where=where)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _refuse_floats(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_floats(item, f"{where}[{index}]")
