"""Organisations, users, their roles, and engagements between organisations."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from claimbridge.errors import Conflict, NotFound
from claimbridge.storage.base import Base, id_column


class OrgKind(enum.StrEnum):
    PRACTICE = "practice"  # the covered entity
    BILLING_COMPANY = "billing_company"  # the business associate
    OPERATOR = "operator"  # whoever runs the server
    AUDITOR = "auditor"  # an outside auditor: evidence, never PHI


class Role(enum.StrEnum):
    """The roles of DESIGN.md; what each may do lives in ``access/``."""

    PRACTICE_ADMIN = "practice_admin"
    PRACTICE_STAFF = "practice_staff"
    PRIVACY_OFFICER = "privacy_officer"
    VENDOR_ADMIN = "vendor_admin"
    BILLER = "biller"
    CODER = "coder"
    OPERATOR = "operator"
    AUDITOR = "auditor"


ROLES_OF_KIND: dict[OrgKind, frozenset[Role]] = {
    OrgKind.PRACTICE: frozenset({Role.PRACTICE_ADMIN, Role.PRACTICE_STAFF, Role.PRIVACY_OFFICER}),
    OrgKind.BILLING_COMPANY: frozenset({Role.VENDOR_ADMIN, Role.BILLER, Role.CODER}),
    OrgKind.OPERATOR: frozenset({Role.OPERATOR}),
    OrgKind.AUDITOR: frozenset({Role.AUDITOR}),
}


class EngagementStatus(enum.StrEnum):
    INVITED = "invited"  # the practice asked; the vendor has not answered
    ASSESSING = "assessing"  # risk questionnaire in progress or under review
    ACTIVE = "active"  # BAA signed and assessment passing: PHI may flow
    SUSPENDED = "suspended"  # assessment lapsed or access paused
    TERMINATED = "terminated"  # ended; PHI returned and destroyed


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint(_in("kind", OrgKind), name="kind"),)

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    npi: Mapped[str | None] = mapped_column(String(10))
    # A practice's billing identity, for the billing provider loop (2010AA) of the
    # 837Ps sent in its name: its employer id and its street address (no PO box).
    tax_id: Mapped[str | None] = mapped_column(String(10))
    address_line: Mapped[str | None] = mapped_column(String(55))
    address_city: Mapped[str | None] = mapped_column(String(30))
    address_state: Mapped[str | None] = mapped_column(String(2))
    address_postal_code: Mapped[str | None] = mapped_column(String(15))
    created_at: Mapped[datetime]
    terminated_at: Mapped[datetime | None]

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'disabled')", name="status"),
        CheckConstraint("email = lower(email)", name="email_lower"),
    )

    id: Mapped[str] = id_column()
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[datetime]

    organisation: Mapped[Organisation] = relationship(back_populates="users")
    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (CheckConstraint(_in("role", Role), name="role"),)

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(30), primary_key=True)

    user: Mapped[User] = relationship(back_populates="roles")


class Engagement(Base):
    """A practice's outsourcing of billing to one billing company."""

    __tablename__ = "engagements"
    __table_args__ = (
        CheckConstraint(_in("status", EngagementStatus), name="status"),
        CheckConstraint("practice_id <> billing_company_id", name="two_parties"),
        UniqueConstraint("practice_id", "billing_company_id", "created_at"),
        Index("ix_engagements_billing_company_status", "billing_company_id", "status"),
    )

    id: Mapped[str] = id_column()
    practice_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    billing_company_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    status: Mapped[str] = mapped_column(String(20))
    baa_signed_at: Mapped[datetime | None]
    # Until when every condition of the gate holds (``access/engagements.py``
    # computes it from the BAA, the assessment, its reviews and evidence):
    # PHI flows while the status is active and this is in the future.
    active_until: Mapped[datetime | None]
    # The condition that failed, and how it reads, while suspended.
    lapse_condition: Mapped[str | None] = mapped_column(String(40))
    lapse_reason: Mapped[str | None] = mapped_column(Text)
    lapsed_at: Mapped[datetime | None]
    reassessment_months: Mapped[int] = mapped_column(Integer, default=12, server_default="12")
    invited_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime]
    terminated_at: Mapped[datetime | None]


def find_organisation(session: Session, ref: str) -> Organisation:
    """The organisation with id ``ref``, or else with exactly that name."""
    found = session.get(Organisation, ref) if len(ref) == 36 else None
    if found is None:
        matches = session.scalars(select(Organisation).where(Organisation.name == ref)).all()
        if len(matches) > 1:
            raise Conflict(f"{len(matches)} organisations are named {ref!r}; give its id.")
        found = matches[0] if matches else None
    if found is None:
        raise NotFound(f"No organisation {ref!r}.", where="org")
    return found


def engaged_practices(session: Session, billing_company_id: str, *, now: datetime) -> set[str]:
    """Practices whose PHI may reach ``billing_company_id`` now (DESIGN.md invariant 6).

    Active means: status active and every condition of the gate holding
    until later than ``now`` (``active_until``, kept by
    ``access/engagements.py``). When one lapses, the practice drops out of
    this set on the next request, whether or not anything has noticed yet.
    """
    rows = session.scalars(
        select(Engagement.practice_id).where(
            Engagement.billing_company_id == billing_company_id,
            Engagement.status == EngagementStatus.ACTIVE.value,
            Engagement.active_until > now,
        )
    )
    return set(rows)
