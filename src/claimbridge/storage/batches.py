"""Batches of billing data a practice sent, as received, and the keys that sign them.

The content itself is an encrypted blob (``blob_key`` names it in the blob
store); this row keeps what both sides may later need to prove: who sent
what to whom, its hash and size, when it arrived, the manifest the sender
signed, the receipt the server signed, and what became of it.

Three unique keys make a batch arrive once: the sender's manifest id, the
content hash, and (for X12) the interchange control number, each per
practice. A retry or a resend finds the batch already here and gets its
original receipt back; nothing is stored twice.

``OrgSigningKey`` holds the Ed25519 public keys an organisation signs its
manifests with. A key is valid from ``created_at`` until ``retired_at``
(when a rotation retires it) plus the overlap the rotation granted
(``valid_until``), so batches signed just before a rotation still pass.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

# Tables this one points at, so their metadata exists whenever this one is used.
from claimbridge.storage import orgs  # noqa: F401
from claimbridge.storage.base import Base, Sealed, id_column


class BatchFormat(enum.StrEnum):
    X12_837P = "x12-837p"
    X12_837I = "x12-837i"
    CSV = "csv"
    FHIR = "fhir-r4"
    X12_999 = "x12-999"
    """Our acknowledgment of an X12 batch: an outbound batch to the practice."""


class BatchStatus(enum.StrEnum):
    RECEIVED = "received"
    """Stored and signed for; not yet read (a worker will)."""
    INGESTED = "ingested"
    REJECTED = "rejected"
    ISSUED = "issued"
    """An outbound batch we made (a 999), stored for the organisation to fetch."""


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint(
            "format IN (" + ", ".join(repr(f.value) for f in BatchFormat) + ")", name="format"
        ),
        CheckConstraint(
            "status IN (" + ", ".join(repr(s.value) for s in BatchStatus) + ")", name="status"
        ),
        CheckConstraint("size_bytes >= 0", name="size"),
        CheckConstraint("direction IN ('inbound', 'outbound')", name="direction"),
        Index("ix_batches_practice_received", "practice_id", "received_at"),
        Index("ix_batches_status_received", "status", "received_at"),
        UniqueConstraint("practice_id", "manifest_id", name="uq_batches_manifest"),
        UniqueConstraint("practice_id", "content_sha256", name="uq_batches_content"),
        UniqueConstraint("practice_id", "interchange_control", name="uq_batches_interchange"),
    )

    id: Mapped[str] = id_column()
    practice_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    recipient_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    sender_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    format: Mapped[str] = mapped_column(String(20))
    content_sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    blob_key: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default=BatchStatus.RECEIVED.value)
    accepted_count: Mapped[int] = mapped_column(Integer, default=0)
    rejected_count: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime]
    manifest_id: Mapped[str | None] = mapped_column(String(36))
    manifest: Mapped[str | None] = mapped_column(Text)
    """The signed manifest as the sender sent it (JSON)."""
    interchange_control: Mapped[str | None] = mapped_column(String(40))
    """For X12: ISA06 (sender id) and ISA13 (control number), the interchange's own key."""
    receipt: Mapped[str | None] = mapped_column(Text)
    """The signed receipt (JSON), stored in the same transaction as the batch's claims."""
    lease_until: Mapped[datetime | None]
    """While a worker reads a ``received`` batch: until when it holds it (then another may)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    in_reply_to: Mapped[str | None] = mapped_column(
        ForeignKey("batches.id", ondelete="RESTRICT"), index=True
    )
    """For an outbound batch answering an inbound one (our 999): that batch."""
    direction: Mapped[str] = mapped_column(String(10), default="inbound", server_default="inbound")


class OrgSigningKey(Base):
    __tablename__ = "org_signing_keys"
    __table_args__ = (
        UniqueConstraint("organisation_id", "key_id", name="uq_org_signing_keys_key"),
        CheckConstraint("length(public_key) = 64", name="public_key_hex"),
    )

    id: Mapped[str] = id_column()
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    key_id: Mapped[str] = mapped_column(String(32))
    public_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    """Signatures dated after this are refused; ``None`` while the key is current."""
    private_key: Mapped[bytes | None] = mapped_column(Sealed)
    """For a key the server holds for the organisation: its seed, sealed under the
    organisation's key (so shredding the organisation's keys destroys it too)."""
