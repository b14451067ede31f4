"""One step of the assessment workflow: who may take it, on which assessment, and its event.

Each side of an engagement sees its own assessments and nobody else's: a
practice's people those of their practice's engagements, a billing
company's people those with their company (``parties.visible``); anyone
else's is "not found", never "forbidden" (DESIGN.md invariant 5). Within
that:

- the practice acts with ``vendors:engagement:manage`` (invite, review,
  close remediation, approve or reject), which also needs a second factor;
- the billing company with ``vendors:questionnaire:answer`` (answer,
  upload evidence, submit, report remediation done);
- both read with ``vendors:engagement:read``.

A refusal is audited and committed before it is raised
(``AuditedDenial``); a step's own event is written in its transaction.
Events name the engagement's practice as their tenant and never carry an
answer, a note or a document title.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal, actor_of
from claimbridge.audit.record import AuditedDenial, Event, record
from claimbridge.errors import AccessDenied, ClaimbridgeError, Conflict, NotFound, ValidationFailed
from claimbridge.storage.orgs import (
    Engagement,
    EngagementStatus,
    Organisation,
    OrgKind,
    find_organisation,
)
from claimbridge.storage.vendors import Assessment
from claimbridge.vendors.parties import local_admin, visible

__all__ = ["Side", "Step", "billing_company", "live", "local_party", "organisation_name"]


class Side(enum.Enum):
    PRACTICE = "practice"
    VENDOR = "vendor"
    EITHER = "either"


@dataclass(frozen=True, slots=True)
class Step:
    """One act of one principal at one moment: its checks, lookups and audit event."""

    session: Session
    principal: Principal
    now: datetime
    request_id: str | None = None

    def require(
        self,
        permission: Permission,
        action: str,
        *,
        resource_type: str,
        resource_id: str | None = None,
    ) -> None:
        """Refuse, audited, a principal without ``permission`` (managing: or without MFA)."""
        held = permission in self.principal.permissions
        if held and (permission is not Permission.ENGAGEMENT_MANAGE or self.principal.mfa):
            return
        self.refuse(AccessDenied(where="permission"), action, resource_type, resource_id)

    def refuse(
        self, error: ClaimbridgeError, action: str, resource_type: str, resource_id: str | None
    ) -> NoReturn:
        self.audit(action, resource_type, resource_id, tenant=None, outcome="denied")
        raise AuditedDenial(error)

    def audit(
        self,
        action: str,
        resource_type: str,
        resource_id: str | None,
        *,
        tenant: str | None,
        outcome: str = "success",
    ) -> None:
        record(
            self.session,
            Event(
                action=action,
                outcome=outcome,
                resource_type=resource_type,
                resource_id=resource_id,
                tenant_id=tenant,
                purpose="operations",
                request_id=self.request_id,
                actor=actor_of(self.principal),
            ),
            now=self.now,
        )

    def visible(self) -> Any:
        """A condition on ``Engagement``: the engagements of the principal's side."""
        return visible(self.principal)

    def side_of(self, engagement: Engagement) -> Side | None:
        """The principal's side of ``engagement``, or ``None`` when it is someone else's."""
        org = self.principal.organisation_id
        kind = self.principal.organisation_kind
        if kind is OrgKind.PRACTICE and engagement.practice_id == org:
            return Side.PRACTICE
        if kind is OrgKind.BILLING_COMPANY and engagement.billing_company_id == org:
            return Side.VENDOR
        return None

    def assessment(
        self, assessment_id: str, *, side: Side, action: str
    ) -> tuple[Assessment, Engagement]:
        """The assessment and its engagement, if ``side`` of it is the principal's."""
        found = self.session.execute(
            select(Assessment, Engagement)
            .join(Engagement, Engagement.id == Assessment.engagement_id)
            .where(Assessment.id == assessment_id, self.visible())
        ).first()
        allowed = {Side.PRACTICE, Side.VENDOR} if side is Side.EITHER else {side}
        if found is None or self.side_of(found[1]) not in allowed:
            self.refuse(
                NotFound("No such assessment.", where="assessment"),
                action,
                "assessment",
                assessment_id,
            )
        return found[0], found[1]

    def practice(self, action: str, resource_type: str) -> str:
        """The principal's practice, for a step only a practice takes."""
        if self.principal.organisation_kind is not OrgKind.PRACTICE:
            self.refuse(
                AccessDenied("Only a practice does this.", where="organisation"),
                action,
                resource_type,
                None,
            )
        return self.principal.organisation_id


def live(engagement: Engagement) -> None:
    """Refuse any change to a terminated engagement."""
    if engagement.status == EngagementStatus.TERMINATED.value:
        raise Conflict("The engagement was terminated.", where="engagement")


def local_party(
    session: Session, assessment_id: str, *, side: Side, organisation: str | None = None
) -> Principal:
    """Whoever holds the data directory, acting as an admin of one side of an assessment.

    ``organisation`` (a name or id) when given, else the assessment's
    practice (``Side.PRACTICE``) or billing company (``Side.VENDOR``).
    """
    if organisation is not None:
        return local_admin(session, organisation)
    found = session.execute(
        select(Engagement)
        .join(Assessment, Assessment.engagement_id == Engagement.id)
        .where(Assessment.id == assessment_id)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("No such assessment.", where="assessment")
    org = found.billing_company_id if side is Side.VENDOR else found.practice_id
    return local_admin(session, org)


def billing_company(session: Session, ref: str, *, where: str) -> Organisation:
    """The billing company with id ``ref``, or else with exactly that name."""
    try:
        org = find_organisation(session, ref)
    except NotFound:
        raise NotFound(f"No billing company {ref!r}.", where=where) from None
    if org.kind != OrgKind.BILLING_COMPANY.value:
        raise ValidationFailed(
            f"{org.name} is not a billing company; only billing companies are assessed.",
            where=where,
        )
    return org


def organisation_name(session: Session, organisation_id: str) -> str:
    org = session.get(Organisation, organisation_id)
    return org.name if org is not None else organisation_id
