"""The two parties of an engagement: who may see it, found the same way by every service.

A practice's people see the engagements of their practice; a billing
company's people those of their company; anyone else none. An engagement
outside that scope is reported as not found, whether or not it exists
(DESIGN.md invariant 5). Refusals are audited and committed before the
error goes back (``AuditedDenial``), like the gateway's.

Managing an engagement (recording a BAA, approving, terminating) is an
administrative act: it needs a second factor as well as the permission.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import false
from sqlalchemy.orm import Session

from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal, actor_of
from claimbridge.audit.record import AuditedDenial, Event, record
from claimbridge.errors import AccessDenied, NotFound
from claimbridge.storage.orgs import Engagement, OrgKind, Role, find_organisation

__all__ = ["DATA_DIR_AUTH", "EngagementScope", "local_admin", "local_practice_admin", "visible"]

DATA_DIR_AUTH = "data-dir"
"""How the audit log names whoever holds the data directory (the CLI on the server)."""

_ADMIN_OF_KIND = {OrgKind.PRACTICE: Role.PRACTICE_ADMIN, OrgKind.BILLING_COMPANY: Role.VENDOR_ADMIN}


def visible(principal: Principal) -> Any:
    """The SQL condition on ``Engagement`` for what ``principal`` may see."""
    own = principal.organisation_id
    if principal.organisation_kind is OrgKind.PRACTICE:
        return Engagement.practice_id == own
    if principal.organisation_kind is OrgKind.BILLING_COMPANY:
        return Engagement.billing_company_id == own
    return false()


def local_admin(session: Session, organisation: str) -> Principal:
    """Whoever holds the data directory, acting as ``organisation``'s administrator."""
    org = find_organisation(session, organisation)
    kind = OrgKind(org.kind)
    role = _ADMIN_OF_KIND.get(kind)
    if role is None:
        raise NotFound(
            "Engagements belong to practices and billing companies.", where="organisation"
        )
    return Principal(
        user_id=None,
        organisation_id=org.id,
        organisation_kind=kind,
        roles=frozenset({role}),
        auth_method=DATA_DIR_AUTH,
        mfa=True,
    )


def local_practice_admin(session: Session, engagement_id: str) -> Principal:
    """Whoever holds the data directory, acting as the admin of the engagement's practice."""
    engagement = session.get(Engagement, engagement_id) if engagement_id else None
    if engagement is None:
        raise NotFound("No such engagement.", where="engagement")
    return local_admin(session, engagement.practice_id)


class EngagementScope:
    """One principal's view of engagements, at one moment, with its audit trail."""

    def __init__(
        self,
        session: Session,
        principal: Principal,
        *,
        now: datetime,
        request_id: str | None = None,
    ) -> None:
        self.session = session
        self.principal = principal
        self.now = now
        self.request_id = request_id

    def require(self, permission: Permission, action: str, resource_type: str) -> None:
        """Refuse, audited, a principal without ``permission`` (managing needs MFA too)."""
        held = permission in self.principal.permissions
        if held and (permission is not Permission.ENGAGEMENT_MANAGE or self.principal.mfa):
            return
        self.audit(action, resource_type=resource_type, resource_id=None, tenant=None, denied=True)
        raise AuditedDenial(AccessDenied(where="permission"))

    def find(
        self, engagement_id: str, permission: Permission, action: str, *, resource_type: str
    ) -> Engagement:
        """The engagement, if the principal may use ``permission`` on it; else not found."""
        self.require(permission, action, resource_type)
        found = self.session.get(Engagement, engagement_id) if engagement_id else None
        own = self.principal.organisation_id
        kind = self.principal.organisation_kind
        if found is not None and (
            (kind is OrgKind.PRACTICE and found.practice_id == own)
            or (kind is OrgKind.BILLING_COMPANY and found.billing_company_id == own)
        ):
            return found
        self.audit(
            action, resource_type=resource_type, resource_id=engagement_id, tenant=None, denied=True
        )
        raise AuditedDenial(NotFound("No such engagement.", where="engagement"))

    def audit(
        self,
        action: str,
        *,
        resource_type: str,
        resource_id: str | None,
        tenant: str | None,
        denied: bool = False,
    ) -> None:
        record(
            self.session,
            Event(
                action=action,
                outcome="denied" if denied else "success",
                resource_type=resource_type,
                resource_id=resource_id,
                tenant_id=tenant,
                purpose="operations",
                request_id=self.request_id,
                actor=actor_of(self.principal),
            ),
            now=self.now,
        )
