"""Authentication: password, then second factor, then a session; API tokens for machines.

The flow (DESIGN.md invariant 7):

1. ``begin_login(email, password)``: checks lockout (per account and per
   source address), verifies the argon2id hash (the same work for unknown
   accounts, and the same answer), and returns a short-lived *challenge*.
   A password alone never opens a session.
2. ``complete_login(challenge, code)``: a TOTP code (each time step usable
   once) or a one-time recovery code. A user with no second factor yet is
   enrolled here: the challenge carries a fresh secret, the first valid
   code confirms it. Then a new session id is issued, with its CSRF token.
3. ``authenticate_session(token)``: refuses ended, idle (15 minutes by
   default) and expired (12 hours) sessions, sessions of disabled users,
   and sessions older than the user's last password, role or status change.

Tokens are 256-bit random strings shown once; only their SHA-256 is kept.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from claimbridge.access import lockout, recovery, totp
from claimbridge.access.password_policy import check_password
from claimbridge.access.passwords import hash_password, verify_password
from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal
from claimbridge.audit.record import Actor, AuditedDenial, Event, record
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.errors import AccessDenied, Unauthenticated
from claimbridge.storage.auth import AddressFailures, ApiToken, AuthSession, Credential
from claimbridge.storage.orgs import Organisation, OrgKind, Role, User

CHALLENGE_LIFETIME = timedelta(minutes=5)
LOGIN_FAILED = "The email, password or code is not right."


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=15)
    absolute: timedelta = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Challenge:
    token: str
    expires_at: datetime
    enrolment_secret: str | None
    """Set when the user has no second factor yet: show it (and its URI) once."""
    enrolment_uri: str | None


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str
    csrf_token: str
    expires_at: datetime
    user_id: str
    recovery_codes: tuple[str, ...] = ()
    """Given once, at enrolment."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


# -- login -----------------------------------------------------------------


def begin_login(
    session: Session,
    keyring: Keyring,
    email: str,
    password: str,
    *,
    source_address: str | None,
    now: datetime,
) -> Challenge:
    address = _address_record(session, source_address)
    _check_lockout(address, now=now)
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    # Verify even without a user, so timing does not tell who has an account.
    password_ok = verify_password(user.password_hash if user else None, password)
    credential = _credential(session, user) if user else None
    # A locked account answers exactly as a wrong password does: a distinct
    # "locked" answer would tell an attacker that the account exists.
    locked = credential is not None and _is_locked(credential, now=now)
    if user is None or credential is None or locked or not password_ok or user.status != "active":
        # Attempts during a lock are audited but do not lengthen it, so a
        # stranger cannot keep someone locked out for ever by trying on.
        _fail(
            session,
            user,
            None if locked else credential,
            address,
            now=now,
            stage="password",
            source=source_address,
        )
        # Commit the counters and the event, then refuse.
        raise AuditedDenial(Unauthenticated(LOGIN_FAILED))
    token = new_token("cbc")
    enrolment = None if credential.totp_confirmed_at else totp.new_secret()
    if enrolment is not None:
        credential.totp_secret = FieldSealer(keyring, session, user.organisation_id).seal(
            "credentials", "totp_secret", user.id, enrolment
        )
    session.add(
        AuthSession(
            token_hash=token_hash(token),
            kind="challenge",
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + CHALLENGE_LIFETIME,
            auth_method="password",
            source_address=source_address,
        )
    )
    session.flush()
    return Challenge(
        token=token,
        expires_at=now + CHALLENGE_LIFETIME,
        enrolment_secret=enrolment,
        enrolment_uri=totp.provisioning_uri(enrolment, account=user.email) if enrolment else None,
    )


def complete_login(
    session: Session,
    keyring: Keyring,
    challenge_token: str,
    code: str,
    *,
    source_address: str | None,
    now: datetime,
    policy: SessionPolicy = SessionPolicy(),
) -> NewSession:
    challenge = session.get(AuthSession, token_hash(challenge_token))
    if challenge is None or challenge.kind != "challenge" or challenge.ended_at is not None:
        raise Unauthenticated(LOGIN_FAILED)
    if challenge.expires_at <= now:
        raise Unauthenticated("The sign-in took too long; start again.")
    user = session.get(User, challenge.user_id)
    credential = session.get(Credential, challenge.user_id)
    if user is None or credential is None or user.status != "active":
        raise Unauthenticated(LOGIN_FAILED)
    address = _address_record(session, source_address)
    _check_lockout(address, now=now)
    if _is_locked(credential, now=now):
        raise Unauthenticated(LOGIN_FAILED)
    method, recovery_codes = _second_factor(session, keyring, user, credential, code, now=now)
    if method is None:
        _fail(
            session,
            user,
            credential,
            address,
            now=now,
            stage="second-factor",
            source=source_address,
        )
        # Commit the failure's event and the lockout counters, then refuse:
        # a rolled-back failure would let codes be guessed without limit.
        raise AuditedDenial(Unauthenticated(LOGIN_FAILED))
    challenge.ended_at = now
    _succeed(credential, address)
    token, csrf = new_token("cbs"), secrets.token_urlsafe(32)
    session.add(
        AuthSession(
            token_hash=token_hash(token),
            kind="session",
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.absolute,
            auth_method=method,
            source_address=source_address,
            csrf_hash=token_hash(csrf),
        )
    )
    record(
        session,
        Event(
            action="access:login:succeeded",
            resource_type="user",
            resource_id=user.id,
            tenant_id=user.organisation_id,
            actor=_actor(user, method, source_address),
        ),
        now=now,
    )
    session.flush()
    return NewSession(
        token=token,
        csrf_token=csrf,
        expires_at=now + policy.absolute,
        user_id=user.id,
        recovery_codes=recovery_codes,
    )


def _second_factor(
    session: Session,
    keyring: Keyring,
    user: User,
    credential: Credential,
    code: str,
    *,
    now: datetime,
) -> tuple[str | None, tuple[str, ...]]:
    sealer = FieldSealer(keyring, session, user.organisation_id)
    secret = sealer.unseal("credentials", "totp_secret", user.id, credential.totp_secret)
    if secret is not None:
        try:
            step = totp.verify_totp(secret, code, now=now, last_used_step=credential.totp_last_step)
        except (totp.InvalidCode, totp.CodeReplayed):
            step = None
        if step is not None:
            credential.totp_last_step = step
            if credential.totp_confirmed_at is None:
                credential.totp_confirmed_at = now
                codes, hashes = recovery.new_recovery_codes()
                credential.recovery_code_hashes = list(hashes)
                return "password+totp", tuple(codes)
            return "password+totp", ()
    if credential.totp_confirmed_at is not None and credential.recovery_code_hashes:
        try:
            remaining = recovery.use_recovery_code(code, list(credential.recovery_code_hashes))
        except totp.InvalidCode:
            return None, ()
        credential.recovery_code_hashes = list(remaining)
        return "password+recovery", ()
    return None, ()


# -- sessions ----------------------------------------------------------------


def authenticate_session(
    session: Session,
    token: str,
    *,
    source_address: str | None,
    now: datetime,
    policy: SessionPolicy = SessionPolicy(),
) -> Principal:
    row = session.get(AuthSession, token_hash(token))
    if row is None or row.kind != "session" or row.ended_at is not None:
        raise Unauthenticated()
    if row.expires_at <= now or row.last_seen_at + policy.idle <= now:
        row.ended_at = now
        session.flush()
        raise Unauthenticated("The session has expired; sign in again.")
    user = session.get(User, row.user_id)
    credential = session.get(Credential, row.user_id)
    if user is None or user.status != "active":
        raise Unauthenticated()
    if (
        credential
        and credential.sessions_valid_after
        and row.created_at < credential.sessions_valid_after
    ):
        raise Unauthenticated("The session has ended; sign in again.")
    row.last_seen_at = now
    return _principal(
        session,
        user,
        auth_method=row.auth_method,
        mfa="+" in row.auth_method,
        source_address=source_address,
    )


def check_csrf(session: Session, session_token: str, csrf_token: str | None) -> None:
    """Cookie-authenticated changes must echo the session's CSRF token (double submit)."""
    row = session.get(AuthSession, token_hash(session_token))
    if row is None or not csrf_token or row.csrf_hash != token_hash(csrf_token):
        raise AccessDenied("The request is missing its CSRF token.", where="X-CSRF-Token")


def logout(session: Session, token: str, *, now: datetime) -> None:
    row = session.get(AuthSession, token_hash(token))
    if row is not None and row.ended_at is None:
        row.ended_at = now
        user = session.get(User, row.user_id)
        if user is not None:
            record(
                session,
                Event(
                    action="access:session:ended",
                    resource_type="user",
                    resource_id=user.id,
                    tenant_id=user.organisation_id,
                    actor=_actor(user, row.auth_method, None),
                ),
                now=now,
            )


def end_sessions(session: Session, user_id: str, *, now: datetime) -> None:
    """End every session of a user at once: password change, disable, role change."""
    credential = session.get(Credential, user_id)
    if credential is not None:
        credential.sessions_valid_after = now
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.ended_at.is_(None))
        .values(ended_at=now)
    )


# -- API tokens ----------------------------------------------------------------


def authenticate_api_token(
    session: Session, token: str, *, source_address: str | None, now: datetime
) -> Principal:
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise Unauthenticated()
    creator = session.get(User, row.created_by) if row.created_by else None
    if creator is None or creator.status != "active":
        raise Unauthenticated()
    row.last_used_at = now
    principal = _principal(
        session, creator, auth_method="api-token", mfa=True, source_address=source_address
    )
    return Principal(
        user_id=principal.user_id,
        organisation_id=row.organisation_id,
        organisation_kind=principal.organisation_kind,
        roles=principal.roles,
        auth_method="api-token",
        mfa=True,
        source_address=source_address,
        token_permissions=frozenset(Permission(p) for p in row.permissions),
    )


# -- helpers -------------------------------------------------------------------


def set_password(session: Session, user: User, password: str, *, now: datetime) -> None:
    check_password(password, email=user.email, display_name=user.display_name)
    user.password_hash = hash_password(password)
    credential = _credential(session, user)
    credential.password_changed_at = now
    end_sessions(session, user.id, now=now)


def _principal(
    session: Session, user: User, *, auth_method: str, mfa: bool, source_address: str | None
) -> Principal:
    org = session.get(Organisation, user.organisation_id)
    if org is None:  # pragma: no cover - users.organisation_id is a foreign key
        raise Unauthenticated()
    return Principal(
        user_id=user.id,
        organisation_id=org.id,
        organisation_kind=OrgKind(org.kind),
        roles=frozenset(Role(r.role) for r in user.roles),
        auth_method=auth_method,
        mfa=mfa,
        source_address=source_address,
    )


def _credential(session: Session, user: User) -> Credential:
    credential = session.get(Credential, user.id)
    if credential is None:
        credential = Credential(user_id=user.id, recovery_code_hashes=[], failed_count=0)
        session.add(credential)
        session.flush()
    return credential


def _address_record(session: Session, address: str | None) -> AddressFailures | None:
    if not address:
        return None
    row = session.get(AddressFailures, address)
    if row is None:
        row = AddressFailures(address=address, failed_count=0)
        session.add(row)
    return row


def _check_lockout(row: Credential | AddressFailures | None, *, now: datetime) -> None:
    if row is None:
        return
    lockout.check_not_locked(_failures(row), now=now)


def _is_locked(row: Credential, *, now: datetime) -> bool:
    try:
        lockout.check_not_locked(_failures(row), now=now)
    except lockout.LockedOut:
        return True
    return False


def _failures(row: Credential | AddressFailures) -> lockout.FailureRecord:
    return lockout.FailureRecord(
        count=row.failed_count or 0,
        last_failure_at=row.last_failure_at,
        locked_until=row.locked_until,
    )


def _store(row: Credential | AddressFailures, failures: lockout.FailureRecord) -> None:
    row.failed_count = failures.count
    row.last_failure_at = failures.last_failure_at
    row.locked_until = failures.locked_until


def _fail(
    session: Session,
    user: User | None,
    credential: Credential | None,
    address: AddressFailures | None,
    *,
    now: datetime,
    stage: str,
    source: str | None,
) -> None:
    if credential is not None:
        _store(
            credential,
            lockout.register_failure(_failures(credential), now=now, policy=lockout.ACCOUNT_POLICY),
        )
    if address is not None:
        _store(
            address,
            lockout.register_failure(_failures(address), now=now, policy=lockout.ADDRESS_POLICY),
        )
    record(
        session,
        Event(
            action="access:login:failed",
            outcome="denied",
            resource_type="user",
            resource_id=user.id if user else None,
            tenant_id=user.organisation_id if user else None,
            request_id=stage,
            actor=Actor(
                user_id=None,
                organisation_id=None,
                roles=(),
                auth_method=stage,
                source_address=source,
            ),
        ),
        now=now,
    )


def _succeed(credential: Credential, address: AddressFailures | None) -> None:
    _store(
        credential, lockout.register_success(_failures(credential), policy=lockout.ACCOUNT_POLICY)
    )
    if address is not None:
        _store(address, lockout.register_success(_failures(address), policy=lockout.ADDRESS_POLICY))


def _actor(user: User, method: str, source: str | None) -> Actor:
    return Actor(
        user_id=user.id,
        organisation_id=user.organisation_id,
        roles=tuple(sorted(r.role for r in user.roles)),
        auth_method=method,
        source_address=source,
    )
