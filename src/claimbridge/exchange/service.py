"""Building the exchange for an instance, and what callers ask of it besides batches."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from claimbridge.access.principal import Principal
from claimbridge.audit.record import LOCAL_OPERATOR
from claimbridge.clock import Clock
from claimbridge.config import Settings
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.signing import SigningKey
from claimbridge.errors import NotFound, ValidationFailed
from claimbridge.exchange.batches import BatchService
from claimbridge.exchange.clientkeys import client_key_path, read_client_key, write_client_key
from claimbridge.exchange.orgkeys import register_key
from claimbridge.integrity.peers import load_peers
from claimbridge.integrity.service import ScrubSettings
from claimbridge.storage.blobs import BlobStore
from claimbridge.storage.orgs import (
    Engagement,
    EngagementStatus,
    Organisation,
    OrgKind,
    Role,
    find_organisation,
)

__all__ = [
    "batch_service",
    "choose_recipient",
    "data_dir_principal",
    "recipients_of",
    "resolve_recipient",
    "set_up_sender",
]

DATA_DIR_AUTH = "data-dir"
"""How a principal acting through the data directory (``claimbridge ingest``) is named."""


def batch_service(
    settings: Settings,
    *,
    sessions: sessionmaker[Session],
    keyring: Keyring,
    server_key: SigningKey,
    clock: Clock,
) -> BatchService:
    return BatchService(
        sessions=sessions,
        keyring=keyring,
        files=SealedFiles(BlobStore(settings.paths.blobs), keyring),
        server_key=server_key,
        clock=clock,
        max_bytes=settings.max_batch_bytes,
        lease=timedelta(seconds=settings.ingest_lease_seconds),
        scrubbing=ScrubSettings(
            peers=load_peers(settings.scrub_peers_file) if settings.scrub_peers_file else None,
            timely_filing_days=settings.scrub_timely_filing_days,
        ),
    )


def data_dir_principal(session: Session, organisation: str) -> Principal:
    """Whoever holds the data directory, acting for a practice; audited as such."""
    org = find_organisation(session, organisation)
    if org.kind != OrgKind.PRACTICE.value:
        raise ValidationFailed("Only a practice brings batches in.", where="--org")
    return Principal(
        user_id=None,
        organisation_id=org.id,
        organisation_kind=OrgKind.PRACTICE,
        roles=frozenset({Role.PRACTICE_STAFF}),
        auth_method=DATA_DIR_AUTH,
        mfa=True,
    )


def recipients_of(session: Session, practice_id: str, *, now: datetime) -> list[dict[str, str]]:
    """Billing companies the practice may send PHI to now (active engagements)."""
    rows = session.execute(
        select(Organisation.id, Organisation.name)
        .join(Engagement, Engagement.billing_company_id == Organisation.id)
        .where(
            Engagement.practice_id == practice_id,
            Engagement.status == EngagementStatus.ACTIVE.value,
            Engagement.active_until > now,
        )
        .order_by(Organisation.name)
    ).all()
    return [{"id": row.id, "name": row.name} for row in rows]


def resolve_recipient(
    session: Session, practice_id: str, to: str | None, *, now: datetime
) -> str | None:
    """The billing company ``to`` names (id or name), or the only one engaged when none is."""
    return choose_recipient(recipients_of(session, practice_id, now=now), to)


def choose_recipient(engaged: list[dict[str, str]], to: str | None) -> str | None:
    """Of the engaged companies (``recipients_of``), the one ``to`` names, or the only one."""
    if to is None:
        if len(engaged) == 1:
            return engaged[0]["id"]
        if not engaged:
            return None
        names = ", ".join(r["name"] for r in engaged)
        raise ValidationFailed(
            f"The practice is engaged by several billing companies ({names}); name one with --to.",
            where="--to",
        )
    for recipient in engaged:
        if to in (recipient["id"], recipient["name"]):
            return recipient["id"]
    # Not engaged (or unknown): said here; the exchange refuses such a batch anyway.
    raise NotFound(
        f"No billing company {to!r} with an active engagement with this practice.", where="--to"
    )


def set_up_sender(session: Session, data_dir: Path, organisation_id: str, *, now: datetime) -> Path:
    """Give a practice on this machine what ``send`` needs: a key file here, its key registered.

    An existing key file is kept (and registered if it is not yet).
    """
    path = client_key_path(data_dir, organisation_id)
    if not path.exists():
        write_client_key(path, SigningKey.generate(), organisation_id)
    key = read_client_key(path).key
    register_key(session, organisation_id, key.public_key_bytes(), now=now, actor=LOCAL_OPERATOR)
    return path
