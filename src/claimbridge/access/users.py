"""User administration inside one organisation: create, change roles, disable, passwords.

An administrator manages users of their own organisation only, and only
with roles that fit its kind (a practice has no billers). Every change is
audited, and a change of roles, status or password ends the user's
sessions at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.access.admin import require_admin
from claimbridge.access.authn import end_sessions, set_password
from claimbridge.access.passwords import verify_password
from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal, actor_of
from claimbridge.audit.record import Event, record
from claimbridge.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from claimbridge.storage.auth import Credential
from claimbridge.storage.orgs import ROLES_OF_KIND, Role, User, UserRole


@dataclass(frozen=True, slots=True)
class UserView:
    id: str
    email: str
    display_name: str
    roles: tuple[str, ...]
    status: str
    mfa_enrolled: bool


def list_users(session: Session, admin: Principal, *, now: datetime) -> list[UserView]:
    _require_admin(session, admin, "access:user:list", now=now)
    users = session.scalars(
        select(User).where(User.organisation_id == admin.organisation_id).order_by(User.email)
    ).all()
    return [_view(session, user) for user in users]


def create_user(
    session: Session,
    admin: Principal,
    *,
    email: str,
    display_name: str,
    roles: frozenset[Role],
    password: str,
    now: datetime,
) -> UserView:
    _require_admin(session, admin, "access:user:created", now=now)
    _check_roles(admin, roles)
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise ValidationFailed("Give a valid email address.", where="email")
    if session.scalars(select(User.id).where(User.email == email)).first():
        raise Conflict("A user with that email exists.", where="email")
    user = User(
        organisation_id=admin.organisation_id,
        email=email,
        display_name=display_name,
        status="active",
        created_at=now,
    )
    user.roles.extend(UserRole(role=role.value) for role in sorted(roles))
    session.add(user)
    session.flush()
    set_password(session, user, password, now=now)
    _audit(session, admin, "access:user:created", user, now=now)
    return _view(session, user)


def update_user(
    session: Session,
    admin: Principal,
    user_id: str,
    *,
    roles: frozenset[Role] | None,
    status: str | None,
    now: datetime,
) -> UserView:
    _require_admin(session, admin, "access:user:updated", now=now, user_id=user_id)
    user = session.get(User, user_id)
    if user is None or user.organisation_id != admin.organisation_id:
        raise NotFound(where="user_id")
    if roles is not None:
        _check_roles(admin, roles)
        user.roles = [UserRole(role=role.value) for role in sorted(roles)]
        _audit(session, admin, "access:user:roles-changed", user, now=now)
    if status is not None:
        if status not in {"active", "disabled"}:
            raise ValidationFailed("status is active or disabled.", where="status")
        if user.id == admin.user_id and status == "disabled":
            raise Conflict("You cannot disable yourself.", where="status")
        user.status = status
        _audit(
            session,
            admin,
            f"access:user:{'enabled' if status == 'active' else 'disabled'}",
            user,
            now=now,
        )
    end_sessions(session, user.id, now=now)
    session.flush()
    return _view(session, user)


def change_own_password(
    session: Session, principal: Principal, *, current: str, new: str, now: datetime
) -> None:
    user = session.get(User, principal.user_id) if principal.user_id else None
    if user is None or not verify_password(user.password_hash, current):
        raise Unauthenticated("The current password is not right.")
    set_password(session, user, new, now=now)
    _audit(session, principal, "access:password:changed", user, now=now)


def _require_admin(
    session: Session, admin: Principal, action: str, *, now: datetime, user_id: str | None = None
) -> None:
    require_admin(
        session,
        admin,
        Permission.USER_MANAGE,
        action,
        resource_type="user",
        resource_id=user_id,
        now=now,
    )


def _check_roles(admin: Principal, roles: frozenset[Role]) -> None:
    if not roles:
        raise ValidationFailed("A user needs at least one role.", where="roles")
    allowed = ROLES_OF_KIND[admin.organisation_kind]
    if not roles <= allowed:
        wrong = ", ".join(sorted(r.value for r in roles - allowed))
        raise ValidationFailed(f"Roles not available in this organisation: {wrong}.", where="roles")


def _view(session: Session, user: User) -> UserView:
    credential = session.get(Credential, user.id)
    return UserView(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        roles=tuple(sorted(r.role for r in user.roles)),
        status=user.status,
        mfa_enrolled=bool(credential and credential.totp_confirmed_at),
    )


def _audit(session: Session, actor: Principal, action: str, user: User, *, now: datetime) -> None:
    record(
        session,
        Event(
            action=action,
            resource_type="user",
            resource_id=user.id,
            tenant_id=user.organisation_id,
            actor=actor_of(actor),
        ),
        now=now,
    )
