"""The batch manifest: what the sender signs before it sends.

A manifest names the content by its SHA-256 and size, says what format it
is in, who sends it to whom and when, and carries an id the sender chose
(a UUID) so a retry can be told from a new batch. The sender signs it with
its organisation's Ed25519 key (``documents.py``); the server checks the
content against it byte for byte and the signature against the keys the
sender organisation registered.

A manifest older than ``MAX_AGE`` (or dated ahead by more than
``MAX_SKEW``) is refused unless its batch is already here: an old signed
manifest replayed later cannot bring data in.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from claimbridge.crypto.signing import SigningKey
from claimbridge.errors import ValidationFailed
from claimbridge.exchange.documents import SignedDocument, parse_signed, sign_document
from claimbridge.exchange.errors import ManifestInvalid

__all__ = [
    "FORMATS",
    "KIND",
    "MAX_AGE",
    "MAX_SKEW",
    "Manifest",
    "hash_stream",
    "make_manifest",
    "read_manifest",
]

KIND = "claimbridge/manifest/v1"
FORMATS = ("x12-837p", "x12-837i", "csv", "fhir-r4")
MAX_AGE = timedelta(hours=24)
MAX_SKEW = timedelta(minutes=5)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True, slots=True)
class Manifest:
    manifest_id: str
    content_sha256: str
    size: int
    format: str
    sender: str
    recipient: str | None
    created_at: datetime

    def to_document(self) -> dict[str, Any]:
        return {
            "manifest_id": self.manifest_id,
            "content_sha256": self.content_sha256,
            "size": self.size,
            "format": self.format,
            "sender": self.sender,
            "recipient": self.recipient,
            "created_at": self.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }

    def check_fresh(self, now: datetime) -> None:
        if self.created_at < now - MAX_AGE:
            raise ManifestInvalid(
                "The manifest is more than 24 hours old: sign a new one (replayed manifests "
                "are refused).",
                where="manifest.created_at",
            )
        if self.created_at > now + MAX_SKEW:
            raise ManifestInvalid(
                "The manifest is dated in the future; check the sender's clock.",
                where="manifest.created_at",
            )


def hash_stream(stream: BinaryIO, chunk_size: int = 1 << 20) -> tuple[str, int]:
    """SHA-256 (hex) and size of what ``stream`` holds from here on."""
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(chunk_size):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def make_manifest(
    stream: BinaryIO,
    *,
    format: str,  # noqa: A002 - the manifest's own field name
    sender: str,
    recipient: str | None,
    key: SigningKey,
    now: datetime,
) -> tuple[Manifest, SignedDocument]:
    """Hash ``stream`` and sign a manifest for it with the sender's key."""
    if format not in FORMATS:
        raise ValidationFailed(f"The format must be one of {', '.join(FORMATS)}.", where="format")
    content_sha256, size = hash_stream(stream)
    manifest = Manifest(
        manifest_id=str(uuid.uuid4()),
        content_sha256=content_sha256,
        size=size,
        format=format,
        sender=sender,
        recipient=recipient,
        created_at=now.astimezone(UTC).replace(microsecond=0),
    )
    return manifest, sign_document(KIND, manifest.to_document(), key)


def read_manifest(raw: bytes | str | Mapping[str, Any]) -> tuple[Manifest, SignedDocument]:
    """The manifest in a signed document, its fields checked (not yet its signature)."""
    signed = parse_signed(raw, kind=KIND, where="manifest")
    d = signed.document
    expected = {
        "manifest_id",
        "content_sha256",
        "size",
        "format",
        "sender",
        "recipient",
        "created_at",
    }
    unknown = sorted(set(d) - expected)
    if unknown:
        raise ValidationFailed(f"Unknown manifest field {unknown[0]!r}.", where="manifest.document")
    manifest = Manifest(
        manifest_id=_text(d, "manifest_id", _ID),
        content_sha256=_text(d, "content_sha256", _HEX64),
        size=_size(d),
        format=_format(d),
        sender=_text(d, "sender", _ID),
        recipient=None if d.get("recipient") is None else _text(d, "recipient", _ID),
        created_at=_instant(d),
    )
    return manifest, signed


def _text(d: Mapping[str, Any], name: str, shape: re.Pattern[str]) -> str:
    value = d.get(name)
    if not isinstance(value, str) or not shape.fullmatch(value):
        raise ValidationFailed(f"{name} is missing or malformed.", where=f"manifest.{name}")
    return value


def _size(d: Mapping[str, Any]) -> int:
    value = d.get("size")
    if type(value) is not int or value < 0:
        raise ValidationFailed("size must be a whole number of bytes.", where="manifest.size")
    return value


def _format(d: Mapping[str, Any]) -> str:
    value = d.get("format")
    if value not in FORMATS:
        raise ValidationFailed(
            f"format must be one of {', '.join(FORMATS)}.", where="manifest.format"
        )
    return str(value)


def _instant(d: Mapping[str, Any]) -> datetime:
    value = d.get("created_at")
    problem = ValidationFailed(
        "created_at must be an RFC 3339 UTC time ending in Z.", where="manifest.created_at"
    )
    if not isinstance(value, str) or not value.endswith("Z"):
        raise problem
    try:
        return datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError as exc:
        raise problem from exc
