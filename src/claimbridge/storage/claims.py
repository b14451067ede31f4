"""Claims and their service lines.

Amounts are integer cents (``BigInteger``), never floats. Codes and dates of
service are in the clear for scrubbing and KPIs; the patient's account
number (CLM01) identifies a person and is sealed.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

# Tables this one points at, so their metadata exists whenever this one is used.
from claimbridge.storage import batches, clinical, orgs  # noqa: F401
from claimbridge.storage.base import Base, Sealed, id_column


class ClaimStatus(enum.StrEnum):
    RECEIVED = "received"  # ingested from a batch
    FLAGGED = "flagged"  # an integrity finding holds it
    READY = "ready"  # scrubbed clean (or findings overridden with reasons)
    SUBMITTED = "submitted"  # sent to the payer in an 837
    ACCEPTED = "accepted"  # acknowledged by the payer
    DENIED = "denied"
    PAID = "paid"
    VOID = "void"


class Claim(Base):
    __tablename__ = "claims"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(repr(s.value) for s in ClaimStatus) + ")", name="status"
        ),
        CheckConstraint("total_charge_cents >= 0", name="charge"),
        # A practice's claims by id: keyset pages (the return package) and lookups.
        Index("ix_claims_practice_id_id", "practice_id", "id"),
        Index("ix_claims_practice_status", "practice_id", "status"),
        Index("ix_claims_practice_service_from", "practice_id", "service_from"),
    )

    id: Mapped[str] = id_column()
    practice_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    coverage_id: Mapped[str | None] = mapped_column(ForeignKey("coverages.id", ondelete="SET NULL"))
    encounter_id: Mapped[str | None] = mapped_column(
        ForeignKey("encounters.id", ondelete="SET NULL"), index=True
    )
    batch_id: Mapped[str | None] = mapped_column(
        ForeignKey("batches.id", ondelete="RESTRICT"), index=True
    )
    patient_account: Mapped[bytes | None] = mapped_column(Sealed)
    billing_npi: Mapped[str] = mapped_column(String(10))
    rendering_npi: Mapped[str | None] = mapped_column(String(10))
    referring_npi: Mapped[str | None] = mapped_column(String(10))
    # The rendering provider's name (NM1*82): a provider's, not a patient's; the
    # outbound 837P's loop 2310B needs it beside the NPI.
    rendering_family: Mapped[str | None] = mapped_column(String(60))
    rendering_given: Mapped[str | None] = mapped_column(String(35))
    taxonomy: Mapped[str | None] = mapped_column(String(10))  # the rendering provider's (PRV03)
    place_of_service: Mapped[str] = mapped_column(String(2))
    frequency_code: Mapped[str] = mapped_column(String(1), default="1")
    diagnoses: Mapped[list[str]] = mapped_column(JSON)
    total_charge_cents: Mapped[int] = mapped_column(BigInteger)
    service_from: Mapped[date]
    service_through: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default=ClaimStatus.RECEIVED.value)
    received_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    lines: Mapped[list[ServiceLine]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="ServiceLine.line_number"
    )


class ServiceLine(Base):
    __tablename__ = "service_lines"
    __table_args__ = (
        UniqueConstraint("claim_id", "line_number"),
        CheckConstraint("line_number BETWEEN 1 AND 50", name="line_number"),
        CheckConstraint("units > 0", name="units"),
        CheckConstraint("charge_cents >= 0", name="charge"),
        Index(
            "ix_service_lines_practice_code_date", "practice_id", "procedure_code", "service_date"
        ),
        Index("ix_service_lines_practice_id_id", "practice_id", "id"),
    )

    id: Mapped[str] = id_column()
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"))
    practice_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    line_number: Mapped[int] = mapped_column(SmallInteger)
    procedure_code: Mapped[str] = mapped_column(String(5))
    modifiers: Mapped[list[str]] = mapped_column(JSON)
    units: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    charge_cents: Mapped[int] = mapped_column(BigInteger)
    service_date: Mapped[date]
    diagnosis_pointers: Mapped[list[int]] = mapped_column(JSON)
    ndc: Mapped[str | None] = mapped_column(String(11))
    place_of_service: Mapped[str | None] = mapped_column(String(2))

    claim: Mapped[Claim] = relationship(back_populates="lines")
