"""Administrative permissions, checked and audited the same way everywhere.

Managing users, API tokens and client certificates changes who can reach
PHI, so each success is an audit event, and so is each refusal: a
refusal's event is committed before the error goes back
(``AuditedDenial``), like a PHI denial in the gateway.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal, actor_of
from claimbridge.audit.record import AuditedDenial, Event, record
from claimbridge.errors import AccessDenied


def audit_admin(
    session: Session,
    actor: Principal,
    action: str,
    *,
    resource_type: str,
    resource_id: str | None,
    now: datetime,
    tenant_id: str | None = None,
    outcome: str = "success",
) -> None:
    """Record an administrative act (by default on the actor's own organisation)."""
    record(
        session,
        Event(
            action=action,
            outcome=outcome,
            resource_type=resource_type,
            resource_id=resource_id,
            tenant_id=tenant_id or actor.organisation_id,
            purpose="operations",
            actor=actor_of(actor),
        ),
        now=now,
    )


def require_admin(
    session: Session,
    actor: Principal,
    permission: Permission,
    action: str,
    *,
    resource_type: str,
    now: datetime,
    resource_id: str | None = None,
) -> None:
    """Refuse, audited, a principal without ``permission`` or without a second factor."""
    if permission in actor.permissions and actor.mfa:
        return
    audit_admin(
        session,
        actor,
        action,
        resource_type=resource_type,
        resource_id=resource_id,
        now=now,
        outcome="denied",
    )
    raise AuditedDenial(AccessDenied(where="permission"))
