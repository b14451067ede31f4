"""Signed JSON documents: the envelope manifests and receipts travel in.

A signed document is one JSON object::

    {"kind": "claimbridge/manifest/v1", "document": {...},
     "key_id": "9f2c...", "signature": "base64..."}

The signature is Ed25519 (RFC 8032) over ``kind``, a zero byte, and the
canonical bytes of ``document``: keys sorted, no whitespace, UTF-8, which
for the values documents hold (strings, integers, booleans, null, lists
and objects; never floats) is the JSON Canonicalization Scheme of RFC
8785. Anyone can re-create the bytes in another language and check the
signature with nothing but the public key. ``kind`` is a domain label, so
a signature made for a manifest can never pass as a receipt.

``key_id`` names the signing key: the first 16 bytes of the SHA-256 of the
raw 32-byte public key, in hex. It only says which key to try; the
signature is what proves anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from claimbridge.crypto.errors import SignatureInvalid
from claimbridge.crypto.signing import SigningKey, verify
from claimbridge.errors import ValidationFailed

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "SignedDocument",
    "canonical_bytes",
    "key_id_of",
    "parse_signed",
    "sign_document",
]

MAX_DOCUMENT_BYTES = 1 << 20
"""A manifest is a few hundred bytes and a receipt of a bad file a few hundred KB."""

_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_bytes(document: Mapping[str, Any]) -> bytes:
    """The exact bytes a signature covers; floats are refused (no unique form)."""
    _refuse_floats(document, "document")
    return _ENCODER.encode(document).encode("utf-8")


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).digest()[:16].hex()


@dataclass(frozen=True, slots=True)
class SignedDocument:
    kind: str
    document: dict[str, Any]
    key_id: str
    signature: bytes

    def verify_with(self, public_key: bytes) -> None:
        """Raise ``SignatureInvalid`` unless ``public_key`` signed this document."""
        if key_id_of(public_key) != self.key_id:
            raise SignatureInvalid(detail="the document names another signing key")
        verify(public_key, _message(self.kind, self.document), self.signature)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "document": self.document,
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def sign_document(kind: str, document: Mapping[str, Any], key: SigningKey) -> SignedDocument:
    body = dict(document)
    signature = key.sign(_message(kind, body))
    return SignedDocument(kind, body, key_id_of(key.public_key_bytes()), signature)


def parse_signed(raw: bytes | str | Mapping[str, Any], *, kind: str, where: str) -> SignedDocument:
    """A signed document of ``kind`` from its JSON; its signature is not checked here."""
    if isinstance(raw, Mapping):
        data: Any = raw
    else:
        if len(raw) > MAX_DOCUMENT_BYTES:
            raise ValidationFailed(f"The {kind} document is larger than 1 MiB.", where=where)
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationFailed("Not a JSON document.", where=where) from exc
    if not isinstance(data, Mapping):
        raise ValidationFailed("A signed document is a JSON object.", where=where)
    if data.get("kind") != kind:
        raise ValidationFailed(f"Not a {kind} document.", where=f"{where}.kind")
    document, key_id, signature = data.get("document"), data.get("key_id"), data.get("signature")
    if not isinstance(document, dict):
        raise ValidationFailed("The document must be a JSON object.", where=f"{where}.document")
    if not isinstance(key_id, str) or len(key_id) != 32:
        raise ValidationFailed("key_id must be 32 hex digits.", where=f"{where}.key_id")
    if not isinstance(signature, str):
        raise ValidationFailed("signature must be base64 text.", where=f"{where}.signature")
    try:
        raw_signature = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed("signature must be base64.", where=f"{where}.signature") from exc
    _refuse_floats(document, f"{where}.document")
    return SignedDocument(kind, dict(document), key_id.lower(), raw_signature)


def _message(kind: str, document: Mapping[str, Any]) -> bytes:
    return kind.encode("ascii") + b"\x00" + canonical_bytes(document)


def _refuse_floats(value: object, where: str) -> None:
    if isinstance(value, float):
        raise ValidationFailed("Numbers in signed documents are integers.", where=where)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _refuse_floats(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_floats(item, f"{where}[{index}]")
