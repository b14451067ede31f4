"""Credentials, sessions, API tokens, lockout counters and break-glass grants.

Secrets are never stored as given: session and API tokens are 256-bit
random values stored as SHA-256 hashes (a fast hash is enough for values
with that much entropy; a database thief still cannot use them), recovery
codes as keyed hashes, the TOTP secret sealed like any PHI column.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

# Tables this one points at, so their metadata exists whenever this one is used.
from claimbridge.storage import orgs  # noqa: F401
from claimbridge.storage.base import Base, Sealed, id_column


class Credential(Base):
    """A user's second factor and failure counters; one row per user."""

    __tablename__ = "credentials"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    totp_secret: Mapped[bytes | None] = mapped_column(Sealed)
    totp_confirmed_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    recovery_code_hashes: Mapped[list[str]] = mapped_column(JSON, default=list)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    sessions_valid_after: Mapped[datetime | None]
    """Sessions made before this instant are dead: set on password, role or status change."""


class AddressFailures(Base):
    """Failed logins per source address, for lockout that spans accounts."""

    __tablename__ = "address_failures"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]


class AuthSession(Base):
    """A login in progress (``challenge``: password done, second factor due) or a session."""

    __tablename__ = "auth_sessions"
    __table_args__ = (
        CheckConstraint("kind IN ('challenge', 'session')", name="kind"),
        Index("ix_auth_sessions_user", "user_id"),
    )

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    auth_method: Mapped[str] = mapped_column(String(30))
    source_address: Mapped[str | None] = mapped_column(String(64))
    csrf_hash: Mapped[str | None] = mapped_column(String(64))
    ended_at: Mapped[datetime | None]


class ApiToken(Base):
    """A machine's token: scoped to an organisation and a set of permissions, expiring."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = id_column()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(100))
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    permissions: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class BreakGlassGrant(Base):
    """Emergency access: bounded in time, marked on every event, reviewed after."""

    __tablename__ = "break_glass_grants"
    __table_args__ = (Index("ix_break_glass_tenant_reviewed", "tenant_id", "reviewed_at"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    tenant_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    patient_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(500))
    granted_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(36))


class ClientCertificate(Base):
    """A machine client's TLS certificate, registered to an organisation (mutual TLS)."""

    __tablename__ = "client_certificates"

    fingerprint_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    registered_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    certificate_pem: Mapped[str] = mapped_column(String(20_000))
    permissions: Mapped[list[str]] = mapped_column(JSON)
    not_after: Mapped[datetime]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
