"""Patients, their coverages and the encounters a practice documents.

Every column that identifies a patient holds ciphertext (``Sealed``: the
envelope format of ``crypto/envelope.py``, bound to tenant, table, column
and row). Exact-match look-ups go through blind indexes (``*_index``,
keyed HMACs). Codes, dates of service and amounts stay in the clear, under
random ids, because scrubbing and KPIs compute on them; without the sealed
identity they do not point at a person.

``practice_id`` on every row is the tenant.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

# Tables this one points at, so their metadata exists whenever this one is used.
from claimbridge.storage import orgs  # noqa: F401
from claimbridge.storage.base import Base, Sealed, id_column


def _tenant() -> Mapped[str]:
    # Indexed with the row id (``ix_<table>_practice_id_id``): a practice's rows
    # are found by it and read in keyset pages by it (the return package).
    return mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (
        Index("ix_patients_practice_id_id", "practice_id", "id"),
        Index("ix_patients_practice_mrn", "practice_id", "mrn_index"),
        Index("ix_patients_practice_name_dob", "practice_id", "name_dob_index"),
    )

    id: Mapped[str] = id_column()
    practice_id: Mapped[str] = _tenant()
    mrn_index: Mapped[str | None] = mapped_column(String(64))
    name_dob_index: Mapped[str | None] = mapped_column(String(64))
    mrn: Mapped[bytes | None] = mapped_column(Sealed)
    given_name: Mapped[bytes] = mapped_column(Sealed)
    family_name: Mapped[bytes] = mapped_column(Sealed)
    birth_date: Mapped[bytes] = mapped_column(Sealed)
    sex: Mapped[bytes | None] = mapped_column(Sealed)
    address: Mapped[bytes | None] = mapped_column(Sealed)
    phone: Mapped[bytes | None] = mapped_column(Sealed)
    ssn: Mapped[bytes | None] = mapped_column(Sealed)
    deceased_on: Mapped[bytes | None] = mapped_column(Sealed)
    created_at: Mapped[datetime]


class Coverage(Base):
    __tablename__ = "coverages"
    __table_args__ = (
        CheckConstraint("priority BETWEEN 1 AND 3", name="priority"),
        Index("ix_coverages_practice_id_id", "practice_id", "id"),
        Index("ix_coverages_practice_member", "practice_id", "member_id_index"),
    )

    id: Mapped[str] = id_column()
    practice_id: Mapped[str] = _tenant()
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    payer_name: Mapped[str] = mapped_column(String(200))
    payer_id: Mapped[str] = mapped_column(String(80))
    priority: Mapped[int] = mapped_column(SmallInteger)
    relationship_code: Mapped[str] = mapped_column(String(20))
    member_id_index: Mapped[str | None] = mapped_column(String(64))
    member_id: Mapped[bytes] = mapped_column(Sealed)
    group_number: Mapped[bytes | None] = mapped_column(Sealed)
    effective_from: Mapped[date | None]
    effective_through: Mapped[date | None]
    created_at: Mapped[datetime]


class Encounter(Base):
    """A visit the practice documented: the source of truth for services provided."""

    __tablename__ = "encounters"
    __table_args__ = (
        Index("ix_encounters_practice_id_id", "practice_id", "id"),
        Index("ix_encounters_practice_date", "practice_id", "date_of_service"),
        CheckConstraint("source IN ('ehr', 'attestation', 'demo')", name="source"),
    )

    id: Mapped[str] = id_column()
    practice_id: Mapped[str] = _tenant()
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    rendering_npi: Mapped[str] = mapped_column(String(10))
    date_of_service: Mapped[date]
    place_of_service: Mapped[str] = mapped_column(String(2))
    documentation: Mapped[bytes | None] = mapped_column(Sealed)
    source: Mapped[str] = mapped_column(String(20))
    attested_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
