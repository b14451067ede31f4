"""Batches of billing data a practice sent, as received.

The content itself is an encrypted blob (``blob_key`` names it in the blob
store); this row keeps what both sides may later need to prove: who sent
what to whom, its hash and size, when it arrived, and what became of it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

# Tables this one points at, so their metadata exists whenever this one is used.
from claimbridge.storage import orgs  # noqa: F401
from claimbridge.storage.base import Base, id_column


class BatchFormat(enum.StrEnum):
    X12_837P = "x12-837p"
    X12_837I = "x12-837i"
    CSV = "csv"
    FHIR = "fhir-r4"


class BatchStatus(enum.StrEnum):
    RECEIVED = "received"
    INGESTED = "ingested"
    REJECTED = "rejected"


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
        Index("ix_batches_practice_received", "practice_id", "received_at"),
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
