"""API tokens: machine credentials an organisation's admin issues and revokes.

A token is shown once and stored only as its SHA-256 (``authn.token_hash``);
it carries a subset of its creator's permissions and dies with its expiry,
its revocation, or its creator's account. Issuing, listing and revoking
are administrative acts: refused without ``access:token:manage`` and a
second factor, and audited either way (``admin.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.access.admin import audit_admin, require_admin
from claimbridge.access.authn import new_token, token_hash
from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal
from claimbridge.errors import AccessDenied, NotFound, ValidationFailed
from claimbridge.storage.auth import ApiToken

CREATED = "access:token:created"
REVOKED = "access:token:revoked"


@dataclass(frozen=True, slots=True)
class NewToken:
    token: str
    id: str
    expires_at: datetime


def create_api_token(
    session: Session,
    creator: Principal,
    *,
    name: str,
    permissions: frozenset[Permission],
    lifetime: timedelta,
    now: datetime,
) -> NewToken:
    require_admin(
        session,
        creator,
        Permission.TOKEN_MANAGE,
        CREATED,
        resource_type="api_token",
        now=now,
    )
    if not permissions <= creator.permissions:
        raise AccessDenied(
            "A token cannot have permissions its creator lacks.", where="permissions"
        )
    if not timedelta(minutes=5) <= lifetime <= timedelta(days=366):
        raise ValidationFailed(
            "A token lives between 5 minutes and a year.", where="expires_in_days"
        )
    token = new_token("cbt")
    row = ApiToken(
        token_hash=token_hash(token),
        prefix=token[:10],
        name=name,
        organisation_id=creator.organisation_id,
        created_by=creator.user_id,
        permissions=sorted(p.value for p in permissions),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    session.flush()
    audit_admin(session, creator, CREATED, resource_type="api_token", resource_id=row.id, now=now)
    return NewToken(token=token, id=row.id, expires_at=row.expires_at)


def list_api_tokens(session: Session, admin: Principal, *, now: datetime) -> list[ApiToken]:
    require_admin(
        session,
        admin,
        Permission.TOKEN_MANAGE,
        "access:token:list",
        resource_type="api_token",
        now=now,
    )
    return list(
        session.scalars(select(ApiToken).where(ApiToken.organisation_id == admin.organisation_id))
    )


def revoke_api_token(session: Session, admin: Principal, token_id: str, *, now: datetime) -> None:
    require_admin(
        session,
        admin,
        Permission.TOKEN_MANAGE,
        REVOKED,
        resource_type="api_token",
        resource_id=token_id,
        now=now,
    )
    row = session.get(ApiToken, token_id)
    if row is None or row.organisation_id != admin.organisation_id:
        raise NotFound(where="token_id")
    row.revoked_at = row.revoked_at or now
    audit_admin(session, admin, REVOKED, resource_type="api_token", resource_id=token_id, now=now)
