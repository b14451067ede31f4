"""Wrapped keys: each tenant's key-encryption keys and the data keys under them.

Nothing here is usable without the root key, which never enters the
database: ``tenant_keks.wrapped`` is wrapped by the key provider,
``data_keys.wrapped`` by one tenant KEK version. Shredding a tenant
deletes its wrapped KEKs, after which its data keys, and so all its data,
cannot be unwrapped.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

# Tables this one points at, so their metadata exists whenever this one is used.
from claimbridge.storage import orgs  # noqa: F401
from claimbridge.storage.base import Base, id_column


class KekState(enum.StrEnum):
    ACTIVE = "active"  # the newest version: wraps new data keys
    DRAINING = "draining"  # older version: still unwraps data keys not yet re-wrapped
    RETIRED = "retired"  # no data key refers to it; the wrapped key is erased
    DESTROYED = "destroyed"  # shredded with its tenant


class DataKeyPurpose(enum.StrEnum):
    FIELD = "field"  # seals PHI columns
    BLOB = "blob"  # derives per-file keys for stored files
    INDEX = "index"  # keys the blind indexes; one per tenant, never replaced


class TenantKek(Base):
    __tablename__ = "tenant_keks"
    __table_args__ = (
        CheckConstraint(
            "state IN (" + ", ".join(repr(s.value) for s in KekState) + ")", name="state"
        ),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint(
            "(state IN ('retired', 'destroyed')) = (wrapped IS NULL)", name="wrapped_iff_live"
        ),
        Index("uq_tenant_keks_org_version", "organisation_id", "version", unique=True),
    )

    id: Mapped[str] = id_column()
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    version: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    provider_id: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class DataKeyRow(Base):
    __tablename__ = "data_keys"
    __table_args__ = (
        CheckConstraint(
            "purpose IN (" + ", ".join(repr(p.value) for p in DataKeyPurpose) + ")",
            name="purpose",
        ),
        Index("ix_data_keys_org_kek_version", "organisation_id", "kek_version"),
        Index("ix_data_keys_org_purpose", "organisation_id", "purpose"),
    )

    # The 16-byte key id of the envelope header, in hex: ciphertexts name
    # their data key by it.
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    purpose: Mapped[str] = mapped_column(String(10))
    kek_version: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
