"""Where an ended engagement stands: the states of a termination, and why.

A terminated engagement moves on through these states (``TerminationState``)::

    package_pending ──► awaiting_receipt ──► shred_due ──► shredded
                                  │               ▲
                                  └──► shred_held ┘   (another engagement needs the keys)
    closed            (no PHI was ever handled: nothing to return or destroy)

The state is computed, never stored: from the ``Termination`` row (package,
receipt, ``shred_after``, ``shredded_at``) and the practice's other
engagements, at the moment asked. So a period that ends, or the last
other engagement that ends, changes it without anyone writing anything.

Why another engagement holds the shred: a practice's PHI is sealed under
the practice's own keys, whichever billing company it went to, and the
shred destroys those keys. While the practice has an engagement that is
not terminated (or a terminated one still waiting for its return), the
shred would destroy data that engagement still needs; it waits until the
last one ends.

Why an engagement may be ``closed``: no PHI flows without a signed BAA
(the gate's first condition, and break-glass needs one too). An
engagement that ends before any BAA was signed never handled the
practice's data, and ending it must not destroy that data.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.audit.record import Actor, Event, record
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.signing import SigningKey
from claimbridge.errors import ClaimbridgeError, Conflict
from claimbridge.storage.orgs import Engagement, EngagementStatus, Organisation
from claimbridge.storage.vendors import (
    BusinessAssociateAgreement,
    EngagementNotice,
    NoticeKind,
    Termination,
)

__all__ = [
    "CERTIFICATE_READ",
    "DOWNLOADED",
    "EXPORTED",
    "GRANT_REVOKED",
    "KEKS_SHREDDED",
    "RECEIPT_CONFIRMED",
    "SHREDDED",
    "STATUS_READ",
    "TERMINATED",
    "Offboarding",
    "TerminationState",
    "TerminationView",
    "audit_engagement",
    "find_termination",
    "handled_phi",
    "instant",
    "notice",
    "org_json",
    "state_of",
    "view_of",
]

TERMINATED = "vendors:engagement:terminated"
EXPORTED = "vendors:package:exported"
DOWNLOADED = "vendors:package:downloaded"
RECEIPT_CONFIRMED = "vendors:package:receipt-confirmed"
SHREDDED = "vendors:engagement:shredded"
KEKS_SHREDDED = "crypto:kek:shredded"
GRANT_REVOKED = "access:break-glass:revoked"
STATUS_READ = "vendors:termination:read"
CERTIFICATE_READ = "vendors:certificate:read"


class TerminationState(enum.StrEnum):
    CLOSED = "closed"
    """No PHI was handled under the engagement: nothing to return or destroy."""
    PACKAGE_PENDING = "package_pending"
    """Terminated; the return package is not made yet (the shred waits for it)."""
    AWAITING_RECEIPT = "awaiting_receipt"
    """The package is ready; waiting for the practice's receipt or the end of the period."""
    SHRED_HELD = "shred_held"
    """Due, but the practice's other engagements still need the same keys."""
    SHRED_DUE = "shred_due"
    SHREDDED = "shredded"


@dataclass(frozen=True, slots=True)
class Offboarding:
    """What offboarding needs of the instance: keys, the blob store, the server's signing key."""

    keyring: Keyring
    files: SealedFiles
    server_key: SigningKey | None = None
    """Signs certificates of destruction; only the shred needs it."""


@dataclass(frozen=True, slots=True)
class TerminationView:
    engagement_id: str
    practice_id: str
    billing_company_id: str
    state: TerminationState
    explanation: str
    requested_at: datetime
    shred_after: datetime
    package_sha256: str | None
    package_size: int | None
    receipt_confirmed_at: datetime | None
    shredded_at: datetime | None
    certificate: bool
    held_by: tuple[str, ...] = ()
    """Engagement ids whose data the shred would destroy too, while it is held."""

    def to_json(self) -> dict[str, Any]:
        return {
            "engagement_id": self.engagement_id,
            "practice_id": self.practice_id,
            "billing_company_id": self.billing_company_id,
            "state": self.state.value,
            "explanation": self.explanation,
            "requested_at": instant(self.requested_at),
            "shred_after": instant(self.shred_after),
            "package": (
                {"sha256": self.package_sha256, "size": self.package_size}
                if self.package_sha256
                else None
            ),
            "receipt_confirmed_at": instant(self.receipt_confirmed_at),
            "shredded_at": instant(self.shredded_at),
            "certificate": self.certificate,
            "held_by": list(self.held_by),
        }


def find_termination(
    session: Session,
    engagement: Engagement,
    *,
    lock: bool = False,
    missing: type[ClaimbridgeError] = Conflict,
) -> Termination:
    found = session.get(Termination, engagement.id, with_for_update=lock or None)
    if found is None:
        raise missing("This engagement has not been terminated.", where="engagement")
    return found


def handled_phi(session: Session, engagement: Engagement) -> bool:
    """Whether PHI could ever have flowed: a BAA was signed (the gate's first condition)."""
    if engagement.baa_signed_at is not None:
        return True
    found = session.scalars(
        select(BusinessAssociateAgreement.id)
        .where(BusinessAssociateAgreement.engagement_id == engagement.id)
        .limit(1)
    ).first()
    return found is not None


def state_of(
    session: Session, engagement: Engagement, termination: Termination, now: datetime
) -> tuple[TerminationState, str, tuple[str, ...]]:
    """The state, why in words, and (while held) the engagements holding it."""
    if termination.shredded_at is not None:
        return (
            TerminationState.SHREDDED,
            f"the practice's data was destroyed on {termination.shredded_at.date()}",
            (),
        )
    if not handled_phi(session, engagement):
        return TerminationState.CLOSED, "no PHI was handled under this engagement", ()
    if termination.package_sha256 is None:
        return (
            TerminationState.PACKAGE_PENDING,
            "the return package has not been made yet; the data is kept until it is",
            (),
        )
    if termination.receipt_confirmed_at is None and now < termination.shred_after:
        return (
            TerminationState.AWAITING_RECEIPT,
            "waiting for the practice to confirm receipt of the return package, or until "
            f"{instant(termination.shred_after)}",
            (),
        )
    holders = _holders(session, engagement, now)
    if holders:
        return (
            TerminationState.SHRED_HELD,
            "shredding would destroy data the practice still needs under the same keys ("
            + "; ".join(text for _, text in holders)
            + "): the shred runs when the last of these ends",
            tuple(engagement_id for engagement_id, _ in holders),
        )
    return TerminationState.SHRED_DUE, "the practice's data is due to be destroyed", ()


def _holders(session: Session, engagement: Engagement, now: datetime) -> list[tuple[str, str]]:
    """The practice's other engagements whose data the shred would also destroy."""
    others = session.execute(
        select(Engagement, Organisation.name, Termination)
        .join(Organisation, Organisation.id == Engagement.billing_company_id)
        .outerjoin(Termination, Termination.engagement_id == Engagement.id)
        .where(Engagement.practice_id == engagement.practice_id, Engagement.id != engagement.id)
        .order_by(Engagement.created_at, Engagement.id)
    ).all()
    found: list[tuple[str, str]] = []
    for other, name, ended in others:
        if other.status != EngagementStatus.TERMINATED.value or ended is None:
            found.append((other.id, f"the engagement with {name} is {other.status}"))
        elif ended.shredded_at is None and handled_phi(session, other):
            waiting = ended.package_sha256 is None or (
                ended.receipt_confirmed_at is None and now < ended.shred_after
            )
            if waiting:
                found.append((other.id, f"the ended engagement with {name} awaits its return"))
    return found


def view_of(
    session: Session, engagement: Engagement, termination: Termination, now: datetime
) -> TerminationView:
    state, explanation, held_by = state_of(session, engagement, termination, now)
    return TerminationView(
        engagement_id=engagement.id,
        practice_id=engagement.practice_id,
        billing_company_id=engagement.billing_company_id,
        state=state,
        explanation=explanation,
        requested_at=termination.requested_at,
        shred_after=termination.shred_after,
        package_sha256=termination.package_sha256,
        package_size=termination.package_size,
        receipt_confirmed_at=termination.receipt_confirmed_at,
        shredded_at=termination.shredded_at,
        certificate=termination.certificate is not None,
        held_by=held_by,
    )


def notice(
    engagement: Engagement, kind: NoticeKind, message: str, now: datetime
) -> EngagementNotice:
    """A message to both sides of the engagement (the watcher delivers it)."""
    return EngagementNotice(
        engagement_id=engagement.id,
        kind=kind.value,
        condition=kind.value,
        message=message,
        due_at=None,
        created_at=now,
    )


def audit_engagement(
    session: Session,
    action: str,
    engagement: Engagement,
    *,
    actor: Actor,
    now: datetime,
    request_id: str | None = None,
) -> None:
    record(
        session,
        Event(
            action=action,
            resource_type="engagement",
            resource_id=engagement.id,
            tenant_id=engagement.practice_id,
            purpose="operations",
            request_id=request_id,
            actor=actor,
        ),
        now=now,
    )


def org_json(session: Session, org_id: str) -> dict[str, str]:
    org = session.get(Organisation, org_id)
    return {"id": org_id, "name": org.name if org is not None else ""}


def instant(value: datetime | None) -> str | None:
    """An instant as ISO 8601 in UTC with a ``Z``, or ``None``."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
