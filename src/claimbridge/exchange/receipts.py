"""Signed receipts: what the server answers for every batch it took.

A receipt says which batch (our id and the sender's manifest id), which
content (SHA-256 and size), when it arrived, what became of it
(``accepted``, ``rejected``, or ``processing`` while a worker reads it),
the counts of claims found, valid, rejected and stored, each error with
its location, and for X12 input the 999 acknowledgment. The server signs
it with its own Ed25519 key (the key ``claimbridge audit public-key``
prints), so the practice can later prove what the billing exchange
received, without trusting the exchange: ``claimbridge receipt verify``.

A receipt with status ``accepted`` or ``rejected`` is signed only after the
batch's rows are committed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from claimbridge.crypto.signing import SigningKey
from claimbridge.errors import ValidationFailed
from claimbridge.exchange.documents import SignedDocument, parse_signed, sign_document

__all__ = [
    "KIND",
    "MAX_ERRORS",
    "Problem",
    "Receipt",
    "read_receipt",
    "sign_receipt",
]

KIND = "claimbridge/receipt/v1"
MAX_ERRORS = 1000
"""A receipt lists at most this many errors, and says how many it left out."""

STATUSES = ("processing", "accepted", "rejected")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the batch: where, what, and a stable code."""

    where: str
    message: str
    code: str

    def to_document(self) -> dict[str, str]:
        return {"where": self.where, "message": self.message, "code": self.code}


@dataclass(frozen=True, slots=True)
class Receipt:
    batch_id: str
    manifest_id: str
    content_sha256: str
    size: int
    format: str
    sender: str
    recipient: str | None
    received_at: datetime
    status: str
    claims_found: int = 0
    claims_valid: int = 0
    claims_rejected: int = 0
    claims_stored: int = 0
    problems: tuple[Problem, ...] = ()
    problems_left_out: int = 0
    acknowledgment_999: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_document(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "manifest_id": self.manifest_id,
            "content_sha256": self.content_sha256,
            "size": self.size,
            "format": self.format,
            "sender": self.sender,
            "recipient": self.recipient,
            "received_at": _instant(self.received_at),
            "status": self.status,
            "claims": {
                "found": self.claims_found,
                "valid": self.claims_valid,
                "rejected": self.claims_rejected,
                "stored": self.claims_stored,
            },
            "errors": [problem.to_document() for problem in self.problems],
            "errors_left_out": self.problems_left_out,
            "acknowledgment_999": self.acknowledgment_999,
            **dict(self.extra),
        }


def sign_receipt(receipt: Receipt, key: SigningKey) -> SignedDocument:
    if receipt.status not in STATUSES:
        raise ValueError(f"unknown receipt status {receipt.status!r}")
    return sign_document(KIND, receipt.to_document(), key)


def read_receipt(raw: bytes | str | Mapping[str, Any]) -> SignedDocument:
    """A signed receipt from its JSON (check it with ``.verify_with(public_key)``)."""
    signed = parse_signed(raw, kind=KIND, where="receipt")
    document = signed.document
    for name in ("batch_id", "content_sha256", "status", "received_at"):
        if not isinstance(document.get(name), str):
            raise ValidationFailed(f"The receipt has no {name}.", where=f"receipt.{name}")
    return signed


def problems_within(
    problems: Sequence[Problem], *, left_out: int = 0
) -> tuple[tuple[Problem, ...], int]:
    """The problems a receipt lists, and how many it leaves out (with those never kept)."""
    return tuple(problems[:MAX_ERRORS]), max(0, len(problems) - MAX_ERRORS) + left_out


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
