"""Mutual TLS: a machine client known by its certificate, registered to an organisation.

The TLS layer checks that the client holds the private key of a
registered certificate; this module decides what that certificate may do:
the permissions it was registered with (never more than its registrar's),
for its organisation, until it expires or is revoked.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.access.admin import audit_admin, require_admin
from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal
from claimbridge.crypto.tls import read_client_certificate
from claimbridge.errors import AccessDenied, Conflict, NotFound, Unauthenticated
from claimbridge.storage.auth import ClientCertificate
from claimbridge.storage.orgs import Organisation, OrgKind, Role, User


def register_client_certificate(
    session: Session,
    admin: Principal,
    *,
    name: str,
    pem: str,
    permissions: frozenset[Permission],
    now: datetime,
) -> ClientCertificate:
    action = "access:client-certificate:registered"
    require_admin(
        session,
        admin,
        Permission.TOKEN_MANAGE,
        action,
        resource_type="client_certificate",
        now=now,
    )
    if not permissions <= admin.permissions:
        raise AccessDenied(
            "A certificate cannot have permissions its registrar lacks.", where="permissions"
        )
    info = read_client_certificate(pem, now=now)
    if session.get(ClientCertificate, info.fingerprint_sha256) is not None:
        raise Conflict("That certificate is already registered.", where="certificate_pem")
    row = ClientCertificate(
        fingerprint_sha256=info.fingerprint_sha256,
        name=name,
        organisation_id=admin.organisation_id,
        registered_by=admin.user_id,
        certificate_pem=info.pem,
        permissions=sorted(p.value for p in permissions),
        not_after=info.not_after,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit_admin(
        session,
        admin,
        action,
        resource_type="client_certificate",
        resource_id=row.fingerprint_sha256,
        now=now,
    )
    return row


def list_client_certificates(
    session: Session, admin: Principal, *, now: datetime
) -> list[ClientCertificate]:
    """The organisation's registered certificates (revoked ones too)."""
    require_admin(
        session,
        admin,
        Permission.TOKEN_MANAGE,
        "access:client-certificate:list",
        resource_type="client_certificate",
        now=now,
    )
    return list(
        session.scalars(
            select(ClientCertificate).where(
                ClientCertificate.organisation_id == admin.organisation_id
            )
        )
    )


def revoke_client_certificate(
    session: Session, admin: Principal, fingerprint: str, *, now: datetime
) -> None:
    action = "access:client-certificate:revoked"
    require_admin(
        session,
        admin,
        Permission.TOKEN_MANAGE,
        action,
        resource_type="client_certificate",
        resource_id=fingerprint,
        now=now,
    )
    row = session.get(ClientCertificate, fingerprint)
    if row is None or row.organisation_id != admin.organisation_id:
        raise NotFound(where="fingerprint")
    row.revoked_at = row.revoked_at or now
    audit_admin(
        session, admin, action, resource_type="client_certificate", resource_id=fingerprint, now=now
    )


def trusted_certificates(session: Session) -> list[str]:
    """PEMs the TLS layer accepts in a handshake: registered, not revoked."""
    return list(
        session.scalars(
            select(ClientCertificate.certificate_pem).where(ClientCertificate.revoked_at.is_(None))
        )
    )


def authenticate_client_certificate(
    session: Session, fingerprint: str, *, source_address: str | None, now: datetime
) -> Principal:
    row = session.get(ClientCertificate, fingerprint)
    if row is None or row.revoked_at is not None or row.not_after <= now:
        raise Unauthenticated()
    registrar = session.get(User, row.registered_by) if row.registered_by else None
    org = session.get(Organisation, row.organisation_id)
    if registrar is None or registrar.status != "active" or org is None:
        raise Unauthenticated()
    return Principal(
        user_id=registrar.id,
        organisation_id=org.id,
        organisation_kind=OrgKind(org.kind),
        roles=frozenset(Role(r.role) for r in registrar.roles),
        auth_method="mtls",
        mfa=True,  # possession of the private key, registered by an MFA-authenticated admin
        source_address=source_address,
        token_permissions=frozenset(Permission(p) for p in row.permissions),
    )
