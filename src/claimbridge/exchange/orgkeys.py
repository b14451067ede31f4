"""Organisation signing keys: the public halves the server checks manifests against.

An organisation signs what it sends with an Ed25519 key whose private half
it keeps (a key file made by ``claimbridge signing-key create``, or the
demo's); the server holds its public keys, each with the time it was
registered. Where the organisation wants the server to sign for it (the
upload page; ``claimbridge ingest`` without a key file), the server holds
the private half too, sealed under the organisation's own key
(``create_held_key``), so shredding the organisation's keys destroys it. A
rotation registers the new key and retires the old one with an overlap
(default 7 days) during which manifests the old key signed still pass, so
batches in flight when the key changed are not refused.

Every registration and rotation is an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.audit.record import Actor, Event, record
from claimbridge.crypto.errors import SignatureInvalid
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.crypto.signing import PUBLIC_KEY_SIZE, SigningKey
from claimbridge.errors import Conflict, ValidationFailed
from claimbridge.exchange.documents import SignedDocument, key_id_of
from claimbridge.exchange.errors import ManifestInvalid
from claimbridge.storage.batches import OrgSigningKey

__all__ = [
    "DEFAULT_OVERLAP",
    "PublicKey",
    "check_signed_by",
    "create_held_key",
    "held_key",
    "list_keys",
    "parse_public_key",
    "register_key",
]

DEFAULT_OVERLAP = timedelta(days=7)
_TABLE = "org_signing_keys"


@dataclass(frozen=True, slots=True)
class PublicKey:
    organisation_id: str
    key_id: str
    public_key: str
    created_at: datetime
    retired_at: datetime | None
    valid_until: datetime | None
    held_by_server: bool = False

    def to_json(self) -> dict[str, str | bool | None]:
        return {
            "organisation_id": self.organisation_id,
            "key_id": self.key_id,
            "public_key": self.public_key,
            "created_at": self.created_at.isoformat(),
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "held_by_server": self.held_by_server,
        }


def parse_public_key(text: str) -> bytes:
    """A raw Ed25519 public key from its 64 hex digits."""
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise ValidationFailed("A public key is 64 hex digits.", where="public_key") from exc
    if len(raw) != PUBLIC_KEY_SIZE:
        raise ValidationFailed("A public key is 64 hex digits.", where="public_key")
    return raw


def register_key(
    session: Session,
    organisation_id: str,
    public_key: bytes,
    *,
    now: datetime,
    actor: Actor,
    retire_others: bool = True,
    overlap: timedelta = DEFAULT_OVERLAP,
) -> PublicKey:
    """Register ``public_key`` for the organisation; older current keys retire with overlap."""
    key_id = key_id_of(public_key)
    existing = session.scalars(
        select(OrgSigningKey).where(
            OrgSigningKey.organisation_id == organisation_id, OrgSigningKey.key_id == key_id
        )
    ).first()
    if existing is not None:
        if existing.retired_at is not None:
            raise Conflict("This key was retired; a retired key cannot come back.")
        return _public(existing)
    if retire_others:
        for old in _current(session, organisation_id):
            old.retired_at = now
            old.valid_until = now + overlap
    row = OrgSigningKey(
        organisation_id=organisation_id,
        key_id=key_id,
        public_key=public_key.hex(),
        created_at=now,
    )
    session.add(row)
    session.flush()
    record(
        session,
        Event(
            action="exchange:signing-key:registered",
            resource_type="signing_key",
            resource_id=key_id,
            tenant_id=organisation_id,
            actor=actor,
        ),
        now=now,
    )
    return _public(row)


def create_held_key(
    session: Session,
    keyring: Keyring,
    organisation_id: str,
    *,
    now: datetime,
    actor: Actor,
    overlap: timedelta = DEFAULT_OVERLAP,
) -> PublicKey:
    """A new key the server holds for the organisation; its older keys retire."""
    key = SigningKey.generate()
    public = register_key(
        session, organisation_id, key.public_key_bytes(), now=now, actor=actor, overlap=overlap
    )
    row = _row(session, organisation_id, public.key_id)
    sealer = FieldSealer(keyring, session, organisation_id)
    row.private_key = sealer.seal(_TABLE, "private_key", row.id, key.seed_bytes().hex())
    return public


def held_key(session: Session, keyring: Keyring, organisation_id: str) -> SigningKey | None:
    """The organisation's current key, if the server holds it."""
    row = session.scalars(
        select(OrgSigningKey).where(
            OrgSigningKey.organisation_id == organisation_id,
            OrgSigningKey.retired_at.is_(None),
            OrgSigningKey.private_key.is_not(None),
        )
    ).first()
    if row is None:
        return None
    sealer = FieldSealer(keyring, session, organisation_id)
    seed = sealer.unseal(_TABLE, "private_key", row.id, row.private_key)
    return SigningKey.from_seed(bytes.fromhex(seed or ""))


def list_keys(session: Session, organisation_id: str) -> list[PublicKey]:
    rows = session.scalars(
        select(OrgSigningKey)
        .where(OrgSigningKey.organisation_id == organisation_id)
        .order_by(OrgSigningKey.created_at, OrgSigningKey.key_id)
    )
    return [_public(row) for row in rows]


def check_signed_by(
    session: Session, organisation_id: str, signed: SignedDocument, *, signed_at: datetime
) -> None:
    """Raise ``ManifestInvalid`` unless one of the organisation's keys, valid then, signed it."""
    row = session.scalars(
        select(OrgSigningKey).where(
            OrgSigningKey.organisation_id == organisation_id,
            OrgSigningKey.key_id == signed.key_id,
        )
    ).first()
    if row is None:
        raise ManifestInvalid(
            "The manifest is signed with a key not registered to its sender organisation.",
            where="manifest.key_id",
        )
    if row.valid_until is not None and signed_at > row.valid_until:
        raise ManifestInvalid(
            "The manifest is signed with a key the sender retired before it was signed.",
            where="manifest.key_id",
        )
    try:
        signed.verify_with(bytes.fromhex(row.public_key))
    except SignatureInvalid as exc:
        raise ManifestInvalid(
            "The manifest's signature does not verify: it was altered after signing.",
            where="manifest.signature",
        ) from exc


def _row(session: Session, organisation_id: str, key_id: str) -> OrgSigningKey:
    row = session.scalars(
        select(OrgSigningKey).where(
            OrgSigningKey.organisation_id == organisation_id, OrgSigningKey.key_id == key_id
        )
    ).one()
    return row


def _current(session: Session, organisation_id: str) -> list[OrgSigningKey]:
    return list(
        session.scalars(
            select(OrgSigningKey).where(
                OrgSigningKey.organisation_id == organisation_id,
                OrgSigningKey.retired_at.is_(None),
            )
        )
    )


def _public(row: OrgSigningKey) -> PublicKey:
    return PublicKey(
        organisation_id=row.organisation_id,
        key_id=row.key_id,
        public_key=row.public_key,
        created_at=row.created_at,
        retired_at=row.retired_at,
        valid_until=row.valid_until,
        held_by_server=row.private_key is not None,
    )
