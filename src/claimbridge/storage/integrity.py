"""Reference tables the integrity rules consult, and the findings they leave.

A reference table version (``reference_tables``) is one file as CMS or the
OIG published it (NCCI PTP, NCCI MUE, the LEIE), loaded once: its SHA-256 is
unique per kind, so loading the same file again finds it. Its rows live in
``ncci_ptp_edits``, ``ncci_mue_edits`` or ``leie_exclusions`` under the
version's id. A version applies from ``effective_from`` (CMS's quarter
start); scrubbing uses the latest ready version in effect that day. A new
quarter is loaded beside the one in use and takes over when its row turns
``ready`` and its date comes: nothing stops, nothing is half-loaded.

The LEIE names excluded people and is public: its rows are kept in the
clear. Findings hold codes, NPIs and the edits' dates, never patient
identity; the reason given with an override is free text a person typed,
so it is sealed under the practice's key like PHI.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

# Tables this one points at, so their metadata exists whenever this one is used.
from claimbridge.storage import batches, claims, orgs  # noqa: F401
from claimbridge.storage.base import Base, BigInt, Sealed, id_column


class TableKind(enum.StrEnum):
    PTP = "ncci-ptp"
    MUE = "ncci-mue"
    LEIE = "oig-leie"


class TableStatus(enum.StrEnum):
    LOADING = "loading"
    READY = "ready"


class FindingStatus(enum.StrEnum):
    OPEN = "open"
    OVERRIDDEN = "overridden"  # a person with the right role accepted it, with a reason
    RESOLVED = "resolved"  # the claim was corrected, voided or the finding was wrong


class ReferenceTable(Base):
    __tablename__ = "reference_tables"
    __table_args__ = (
        UniqueConstraint("kind", "sha256"),
        CheckConstraint(
            "kind IN (" + ", ".join(repr(k.value) for k in TableKind) + ")", name="kind"
        ),
        CheckConstraint(
            "status IN (" + ", ".join(repr(s.value) for s in TableStatus) + ")", name="status"
        ),
        Index("ix_reference_tables_kind_effective", "kind", "effective_from"),
    )

    id: Mapped[str] = id_column()
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))
    quarter: Mapped[str] = mapped_column(String(6))  # e.g. 2026Q4
    effective_from: Mapped[date]
    sha256: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default=TableStatus.LOADING.value)
    loaded_by: Mapped[str | None] = mapped_column(String(36))
    loaded_at: Mapped[datetime]


def _version() -> Mapped[str]:
    return mapped_column(ForeignKey("reference_tables.id", ondelete="CASCADE"), primary_key=True)


class PtpEditRow(Base):
    __tablename__ = "ncci_ptp_edits"
    __table_args__ = (Index("ix_ncci_ptp_edits_pair", "table_id", "column1", "column2"),)

    table_id: Mapped[str] = _version()
    row: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    column1: Mapped[str] = mapped_column(String(5))
    column2: Mapped[str] = mapped_column(String(5))
    effective: Mapped[date]
    exists_before_1996: Mapped[bool]
    deleted: Mapped[date | None]
    modifier_indicator: Mapped[int] = mapped_column(SmallInteger)
    rationale: Mapped[str] = mapped_column(Text, default="")


class MueEditRow(Base):
    __tablename__ = "ncci_mue_edits"
    __table_args__ = (Index("ix_ncci_mue_edits_code", "table_id", "code"),)

    table_id: Mapped[str] = _version()
    row: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(5))
    max_units: Mapped[int] = mapped_column(Integer)
    indicator: Mapped[int] = mapped_column(SmallInteger)
    rationale: Mapped[str] = mapped_column(Text, default="")


class ExclusionRow(Base):
    """One LEIE row: public data about an excluded person or entity."""

    __tablename__ = "leie_exclusions"
    __table_args__ = (
        Index("ix_leie_exclusions_npi", "table_id", "npi"),
        Index("ix_leie_exclusions_name", "table_id", "name_key"),
    )

    table_id: Mapped[str] = _version()
    row: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    npi: Mapped[str | None] = mapped_column(String(10))
    name_key: Mapped[str | None] = mapped_column(String(200))
    entry: Mapped[dict[str, object]] = mapped_column(JSON)


class FindingRow(Base):
    __tablename__ = "findings"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(repr(s.value) for s in FindingStatus) + ")", name="status"
        ),
        CheckConstraint("severity IN ('block', 'warn')", name="severity"),
        Index("ix_findings_practice_status", "practice_id", "status"),
        Index("ix_findings_practice_id_id", "practice_id", "id"),
        Index("ix_findings_claim", "claim_id"),
        Index("ix_findings_batch", "batch_id"),
    )

    id: Mapped[str] = id_column()
    seq: Mapped[int] = mapped_column(BigInt, default=0)  # order within its scrub
    practice_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batches.id", ondelete="RESTRICT"))
    claim_id: Mapped[str | None] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"))
    line_number: Mapped[int | None] = mapped_column(SmallInteger)
    provider_npi: Mapped[str | None] = mapped_column(String(10))
    rule: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(5))
    codes: Mapped[list[str]] = mapped_column(JSON)
    message: Mapped[str] = mapped_column(Text)
    remedy: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict[str, str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default=FindingStatus.OPEN.value)
    reason: Mapped[bytes | None] = mapped_column(Sealed)
    decided_by: Mapped[str | None] = mapped_column(String(36))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
