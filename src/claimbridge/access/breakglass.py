"""Break-glass: emergency access, bounded in time, marked everywhere, reviewed after.

A billing-company user whose practice's engagement has lapsed (the BAA is
signed, the assessment expired or the engagement suspended) can still be
needed urgently: a claim must go out today. They ask with a reason and a
fresh second factor; the grant lasts 60 minutes by default, gives no more
than their role already allows, marks every audit event it enables with
purpose ``break-glass``, and waits for the practice's privacy officer to
sign it off. Without a signed BAA there is no break-glass: PHI never goes
to a vendor the practice has no agreement with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.access import totp
from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal, actor_of
from claimbridge.audit.record import AuditedDenial, Event, record
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.errors import AccessDenied, NotFound, Unauthenticated, ValidationFailed
from claimbridge.storage.auth import BreakGlassGrant, Credential
from claimbridge.storage.orgs import Engagement, EngagementStatus, OrgKind

DEFAULT_LIFETIME = timedelta(minutes=60)
MAX_LIFETIME = timedelta(hours=4)
MIN_REASON = 20


@dataclass(frozen=True, slots=True)
class GrantView:
    id: str
    user_id: str
    tenant_id: str
    patient_id: str | None
    reason: str
    granted_at: datetime
    expires_at: datetime
    reviewed_at: datetime | None
    reviewed_by: str | None


def request_break_glass(
    session: Session,
    keyring: Keyring,
    principal: Principal,
    *,
    practice_id: str,
    patient_id: str | None,
    reason: str,
    code: str,
    now: datetime,
    lifetime: timedelta = DEFAULT_LIFETIME,
) -> GrantView:
    if Permission.BREAK_GLASS_REQUEST not in principal.permissions or principal.user_id is None:
        raise AccessDenied(where="permission")
    if len(reason.strip()) < MIN_REASON:
        raise ValidationFailed(
            f"Say why, in at least {MIN_REASON} characters: it is read by the practice.",
            where="reason",
        )
    if not timedelta(minutes=5) <= lifetime <= MAX_LIFETIME:
        raise ValidationFailed("Break-glass lasts between 5 minutes and 4 hours.", where="minutes")
    _fresh_second_factor(session, keyring, principal, code, now=now)
    if not _has_signed_agreement(session, principal, practice_id):
        _audit(
            session,
            principal,
            "access:break-glass:refused",
            practice_id,
            None,
            now=now,
            outcome="denied",
        )
        raise AuditedDenial(NotFound(where="practice_id"))
    grant = BreakGlassGrant(
        user_id=principal.user_id,
        tenant_id=practice_id,
        patient_id=patient_id,
        reason=reason.strip(),
        granted_at=now,
        expires_at=now + lifetime,
    )
    session.add(grant)
    session.flush()
    _audit(session, principal, "access:break-glass:granted", practice_id, grant.id, now=now)
    return _view(grant)


def list_grants(session: Session, principal: Principal) -> list[GrantView]:
    """The grants on the reviewer's own practice, unreviewed first."""
    _require_reviewer(principal)
    rows = session.scalars(
        select(BreakGlassGrant)
        .where(BreakGlassGrant.tenant_id == principal.organisation_id)
        .order_by(BreakGlassGrant.reviewed_at.is_not(None), BreakGlassGrant.granted_at.desc())
    ).all()
    return [_view(row) for row in rows]


def review_grant(
    session: Session, principal: Principal, grant_id: str, *, now: datetime
) -> GrantView:
    _require_reviewer(principal)
    grant = session.get(BreakGlassGrant, grant_id)
    if grant is None or grant.tenant_id != principal.organisation_id:
        raise NotFound(where="grant_id")
    if grant.reviewed_at is None:
        grant.reviewed_at = now
        grant.reviewed_by = principal.user_id
        _audit(
            session, principal, "access:break-glass:reviewed", grant.tenant_id, grant.id, now=now
        )
    return _view(grant)


def _has_signed_agreement(session: Session, principal: Principal, practice_id: str) -> bool:
    if principal.organisation_kind is OrgKind.PRACTICE:
        return practice_id == principal.organisation_id
    if principal.organisation_kind is not OrgKind.BILLING_COMPANY:
        return False
    found = session.scalars(
        select(Engagement.id).where(
            Engagement.practice_id == practice_id,
            Engagement.billing_company_id == principal.organisation_id,
            Engagement.baa_signed_at.is_not(None),
            Engagement.status != EngagementStatus.TERMINATED.value,
        )
    ).first()
    return found is not None


def _fresh_second_factor(
    session: Session, keyring: Keyring, principal: Principal, code: str, *, now: datetime
) -> None:
    credential = session.get(Credential, principal.user_id)
    if credential is None or credential.totp_secret is None:
        raise Unauthenticated("A second factor is required.", where="code")
    secret = FieldSealer(keyring, session, principal.organisation_id).unseal(
        "credentials", "totp_secret", principal.user_id or "", credential.totp_secret
    )
    try:
        credential.totp_last_step = totp.verify_totp(
            secret or "", code, now=now, last_used_step=credential.totp_last_step
        )
    except totp.InvalidCode:
        raise Unauthenticated("The code is not right.", where="code") from None


def _require_reviewer(principal: Principal) -> None:
    if Permission.BREAK_GLASS_REVIEW not in principal.permissions or not principal.mfa:
        raise AccessDenied(where="permission")


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    tenant: str,
    grant_id: str | None,
    *,
    now: datetime,
    outcome: str = "success",
) -> None:
    record(
        session,
        Event(
            action=action,
            outcome=outcome,
            resource_type="break_glass_grant",
            resource_id=grant_id,
            tenant_id=tenant,
            purpose="break-glass",
            actor=actor_of(principal),
        ),
        now=now,
    )


def _view(grant: BreakGlassGrant) -> GrantView:
    return GrantView(
        id=grant.id,
        user_id=grant.user_id,
        tenant_id=grant.tenant_id,
        patient_id=grant.patient_id,
        reason=grant.reason,
        granted_at=grant.granted_at,
        expires_at=grant.expires_at,
        reviewed_at=grant.reviewed_at,
        reviewed_by=grant.reviewed_by,
    )
