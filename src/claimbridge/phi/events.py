"""What every gateway reader shares: whose practices a principal sees, and the access event.

A practice's people see their own practice; a billing company's people see
the practices actively engaged with it now (DESIGN.md invariant 6, checked
on every request, so a lapse hides them at once); anyone else sees none.
The access event names the purpose the way the accounting of disclosures
reads it: payment for a billing company, operations for the practice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from claimbridge.access.principal import Principal, actor_of
from claimbridge.audit.record import Event, record
from claimbridge.storage.orgs import OrgKind, engaged_practices

__all__ = ["practices_visible_to", "record_access"]


def practices_visible_to(session: Session, principal: Principal, *, now: datetime) -> set[str]:
    kind = principal.organisation_kind
    if kind is OrgKind.PRACTICE:
        return {principal.organisation_id}
    if kind is OrgKind.BILLING_COMPANY:
        return engaged_practices(session, principal.organisation_id, now=now)
    return set()


def record_access(
    session: Session,
    principal: Principal,
    action: str,
    *,
    resource_type: str,
    resource_id: str | None,
    tenant: str | None,
    now: datetime,
    request_id: str | None = None,
    outcome: str = "success",
) -> None:
    """The audit event of one read, list or decision (or its refusal), in this transaction."""
    billing = principal.organisation_kind is OrgKind.BILLING_COMPANY
    record(
        session,
        Event(
            action=action,
            outcome=outcome,
            resource_type=resource_type,
            resource_id=resource_id,
            tenant_id=tenant,
            purpose="payment" if billing else "operations",
            request_id=request_id,
            actor=actor_of(principal),
        ),
        now=now,
    )
