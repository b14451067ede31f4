"""Crypto-shredding a practice's data, proving it, and certifying it.

``shred`` runs when a termination is due (the practice confirmed receipt
of its return package, or ``shred_after`` passed) and nothing holds it
(``terminations.py``). In one transaction it:

1. counts what is about to become unreadable (rows per table, stored
   files, the data keys), ids and numbers only;
2. destroys every key-encryption key of the practice (``Keyring.shred``):
   the data keys they wrapped, and with them every sealed field, blind
   index and stored file of the practice, can no longer be decrypted;
3. tries to decrypt a sample again (``phi.exports.probe``: sealed fields of
   each table, stored files, the blind-index key) and requires that every
   attempt fail with ``DecryptionFailed``; if one succeeds, nothing is
   committed (``ShredIncomplete``);
4. signs a certificate of destruction (``destruction.py``) for every due
   termination of the practice (they share the keys), stores it on the
   ``Termination``, leaves a notice for both sides and writes
   ``crypto:kek:shredded`` and ``vendors:engagement:shredded``.

After the commit, the practice's blob files (batches, return packages,
BAA documents: ciphertext no key opens any more) are deleted from the
blob store; a file that cannot be removed is no risk and is left.

The evidence is taken in the process that shredded, whose key cache the
shred emptied. Other processes (an API server beside the CLI) drop
their cached keys within ``Keyring``'s ``cache_seconds`` (30 s).

After a shred the practice can no longer store anything sealed (it has no
active key-encryption key), and its users' second factors, sealed under
its key, no longer open: the practice's tenancy on this server has ended
with its data.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal, actor_of
from claimbridge.audit.record import LOCAL_OPERATOR, Actor, Event, record, unit_of_work
from claimbridge.crypto.signing import SigningKey
from claimbridge.errors import ClaimbridgeError, ConfigError, Conflict, NotFound
from claimbridge.phi.exports import PracticeRecords, Probe, ProbeOutcome, probe
from claimbridge.storage.auth import Credential
from claimbridge.storage.batches import Batch
from claimbridge.storage.keys import DataKeyRow, TenantKek
from claimbridge.storage.orgs import Engagement, User
from claimbridge.storage.vendors import BusinessAssociateAgreement, NoticeKind, Termination
from claimbridge.types import new_id
from claimbridge.vendors.destruction import issue_certificate, key_id_of
from claimbridge.vendors.parties import EngagementScope
from claimbridge.vendors.terminations import (
    KEKS_SHREDDED,
    SHREDDED,
    Offboarding,
    TerminationState,
    TerminationView,
    audit_engagement,
    find_termination,
    handled_phi,
    instant,
    notice,
    org_json,
    state_of,
    view_of,
)

__all__ = ["PROBE_SAMPLES", "ShredIncomplete", "shred", "shred_due"]

PROBE_SAMPLES = 3
"""Rows probed per sealed table, and stored files, for the certificate's evidence."""


class ShredIncomplete(ClaimbridgeError):
    """After the keys were destroyed, something still decrypted: nothing was committed."""

    code = "shred_incomplete"
    public_message = "The data still decrypted after its keys were destroyed; nothing was changed."


def shred_due(session: Session, now: datetime) -> list[str]:
    """Engagements whose shred is due now and not held: one per practice, for a watcher.

    One shred completes every due termination of its practice (they
    share the keys), so a watcher shreds each id this returns with
    ``shred(sessions, parts, engagement_id, now=now)`` and asks again on
    its next sweep.
    """
    rows = session.execute(
        select(Termination, Engagement)
        .join(Engagement, Engagement.id == Termination.engagement_id)
        .where(Termination.shredded_at.is_(None), Termination.package_sha256.is_not(None))
        .order_by(Termination.requested_at, Termination.engagement_id)
    ).all()
    due: dict[str, str] = {}
    for termination, engagement in rows:
        if engagement.practice_id in due:
            continue
        if state_of(session, engagement, termination, now)[0] is TerminationState.SHRED_DUE:
            due[engagement.practice_id] = engagement.id
    return list(due.values())


@dataclass(frozen=True, slots=True)
class _Done:
    view: TerminationView
    blob_keys: tuple[str, ...]


def shred(
    sessions: sessionmaker[Session],
    parts: Offboarding,
    engagement_id: str,
    *,
    now: datetime,
    principal: Principal | None = None,
    request_id: str | None = None,
) -> TerminationView:
    """Destroy the practice's keys, prove it, certify it; then delete its blob files.

    ``principal`` is the practice admin asking; ``None`` is the server's
    own watcher (audited as the local operator). Refused (``Conflict``,
    saying why) unless the shred is due and nothing holds it.
    """
    server_key = parts.server_key
    if server_key is None:
        raise ConfigError(
            "This server holds no signing key: it cannot sign a certificate of destruction."
        )
    done = unit_of_work(
        sessions,
        lambda session: _shred(
            session, parts, server_key, engagement_id, now=now, principal=principal,
            request_id=request_id,
        ),
    )  # fmt: skip
    for blob_key in done.blob_keys:
        # The keys are gone and that is committed: these files are noise now.
        with contextlib.suppress(ClaimbridgeError, OSError):
            parts.files.store.delete(blob_key)
    return done.view


def _shred(
    session: Session,
    parts: Offboarding,
    server_key: SigningKey,
    engagement_id: str,
    *,
    now: datetime,
    principal: Principal | None,
    request_id: str | None,
) -> _Done:
    engagement = _engagement(session, engagement_id, principal, now=now, request_id=request_id)
    termination = find_termination(session, engagement, lock=True)
    state, explanation, _ = state_of(session, engagement, termination, now)
    if state is not TerminationState.SHRED_DUE:
        raise Conflict(f"Not shredded: {explanation}.", where="engagement")
    practice = engagement.practice_id
    actor = actor_of(principal) if principal is not None else LOCAL_OPERATOR
    ended = _due_terminations(session, practice)
    inventory = _inventory(session, parts, practice)
    versions = parts.keyring.shred(session, practice)
    probes = probe(session, parts.keyring, parts.files, practice, samples=PROBE_SAMPLES)
    if any(p.outcome is ProbeOutcome.DECRYPTED for p in probes):
        raise ShredIncomplete(detail=f"{practice}: a probe decrypted after the shred")
    _audit_keys(session, practice, versions, actor=actor, now=now, request_id=request_id)
    keks = _keks(session, practice)
    for termination_row, ended_engagement in ended:
        document = _certificate(
            session,
            ended_engagement,
            termination_row,
            inventory=inventory,
            keks=keks,
            versions=versions,
            probes=probes,
            public_key=server_key.public_key_bytes(),
            now=now,
        )
        termination_row.certificate = issue_certificate(document, server_key)
        termination_row.shredded_at = now
        session.add(notice(ended_engagement, NoticeKind.SHREDDED, _destroyed(now), now))
        audit_engagement(
            session, SHREDDED, ended_engagement, actor=actor, now=now, request_id=request_id
        )
    session.flush()
    return _Done(view_of(session, engagement, termination, now), inventory.blob_keys)


def _engagement(
    session: Session,
    engagement_id: str,
    principal: Principal | None,
    *,
    now: datetime,
    request_id: str | None,
) -> Engagement:
    if principal is not None:
        scope = EngagementScope(session, principal, now=now, request_id=request_id)
        return scope.find(
            engagement_id, Permission.ENGAGEMENT_MANAGE, SHREDDED, resource_type="engagement"
        )
    found = session.get(Engagement, engagement_id)
    if found is None:
        raise NotFound("No such engagement.", where="engagement")
    return found


def _due_terminations(session: Session, practice: str) -> list[tuple[Termination, Engagement]]:
    """Every termination of the practice not yet shredded that handled PHI (all due).

    One that never did (closed before any BAA) has nothing to certify: no
    certificate of destruction is issued in its name.
    """
    rows = session.execute(
        select(Termination, Engagement)
        .join(Engagement, Engagement.id == Termination.engagement_id)
        .where(Engagement.practice_id == practice, Termination.shredded_at.is_(None))
        .order_by(Termination.requested_at, Termination.engagement_id)
        .with_for_update(of=Termination)
    ).all()
    return [(t, engagement) for t, engagement in rows if handled_phi(session, engagement)]


def _destroyed(now: datetime) -> str:
    return (
        "The practice's data on this server was destroyed: the keys that protected it were "
        f"shredded on {now.date()}. A signed certificate of destruction is available."
    )


def _audit_keys(
    session: Session,
    practice: str,
    versions: int,
    *,
    actor: Actor,
    now: datetime,
    request_id: str | None,
) -> None:
    # Named as ``keys shred`` names it (instance/keyops.py): the keys, not a record.
    record(
        session,
        Event(
            action=KEKS_SHREDDED,
            resource_type="organisation_keys",
            resource_id=f"{practice}:{versions} versions",
            tenant_id=practice,
            request_id=request_id,
            actor=actor,
        ),
        now=now,
    )


@dataclass(frozen=True, slots=True)
class _Inventory:
    records: dict[str, int]
    credentials: int
    blob_keys: tuple[str, ...]
    file_bytes: int
    data_keys: list[dict[str, Any]]


def _inventory(session: Session, parts: Offboarding, practice: str) -> _Inventory:
    """What the shred makes unreadable, counted before it runs: ids and numbers only."""
    credentials = session.scalar(
        select(func.count())
        .select_from(Credential)
        .join(User, User.id == Credential.user_id)
        .where(User.organisation_id == practice, Credential.totp_secret.is_not(None))
    )
    engagements = select(Engagement.id).where(Engagement.practice_id == practice)
    stored = [
        select(Batch.blob_key, Batch.size_bytes).where(
            Batch.practice_id == practice, Batch.blob_key.is_not(None)
        ),
        select(Termination.package_blob_key, Termination.package_size).where(
            Termination.engagement_id.in_(engagements), Termination.package_blob_key.is_not(None)
        ),
        select(BusinessAssociateAgreement.blob_key, BusinessAssociateAgreement.size).where(
            BusinessAssociateAgreement.engagement_id.in_(engagements)
        ),
    ]
    files: dict[str, int] = {}
    for query in stored:
        for blob_key, size in session.execute(query):
            if blob_key is not None:
                files[blob_key] = size or 0
    data_keys = [
        {"key_id": row.key_id, "purpose": row.purpose, "kek_version": row.kek_version}
        for row in session.scalars(
            select(DataKeyRow)
            .where(DataKeyRow.organisation_id == practice)
            .order_by(DataKeyRow.created_at, DataKeyRow.key_id)
        )
    ]
    return _Inventory(
        records=PracticeRecords(session, parts.keyring, parts.files, practice).counts(),
        credentials=int(credentials or 0),
        blob_keys=tuple(sorted(files)),
        file_bytes=sum(files.values()),
        data_keys=data_keys,
    )


def _keks(session: Session, practice: str) -> list[dict[str, Any]]:
    return [
        {
            "id": row.id,
            "version": row.version,
            "state": row.state,
            "provider_id": row.provider_id,
            "created_at": instant(row.created_at),
            "destroyed_at": instant(row.retired_at),
        }
        for row in session.scalars(
            select(TenantKek)
            .where(TenantKek.organisation_id == practice)
            .order_by(TenantKek.version)
        )
    ]


def _certificate(
    session: Session,
    engagement: Engagement,
    termination: Termination,
    *,
    inventory: _Inventory,
    keks: list[dict[str, Any]],
    versions: int,
    probes: list[Probe],
    public_key: bytes,
    now: datetime,
) -> dict[str, Any]:
    """What the certificate says (no PHI: ids, counts, instants, key ids)."""
    confirmed = termination.receipt_confirmed_at is not None
    return {
        "certificate_id": new_id(),
        "issued_at": instant(now),
        "engagement": {
            "id": engagement.id,
            "created_at": instant(engagement.created_at),
            "terminated_at": instant(engagement.terminated_at),
        },
        "practice": org_json(session, engagement.practice_id),
        "billing_company": org_json(session, engagement.billing_company_id),
        "trigger": "receipt_confirmed" if confirmed else "retention_period_elapsed",
        "return_package": {
            "sha256": termination.package_sha256,
            "size": termination.package_size,
            "receipt_confirmed_at": instant(termination.receipt_confirmed_at),
            "receipt_confirmed_by": termination.receipt_confirmed_by,
            "shred_after": instant(termination.shred_after),
        },
        "method": (
            "crypto-shredding: every key-encryption key of the practice was destroyed, so "
            "the data keys they wrapped, and every field and file sealed under those, can "
            "no longer be decrypted on this server"
        ),
        "destroyed": {
            "kek_versions_destroyed_now": versions,
            "keks": keks,
            "data_keys": inventory.data_keys,
            "records": inventory.records,
            "other_sealed_values": {"credentials.totp_secret": inventory.credentials},
            "files": {
                "count": len(inventory.blob_keys),
                "bytes": inventory.file_bytes,
                "ciphertext": "deleted from the blob store once this certificate was committed",
            },
        },
        "evidence": {
            "checked_at": instant(now),
            "probes": [p.to_json() for p in probes],
            "all_failed": all(p.outcome is not ProbeOutcome.DECRYPTED for p in probes),
        },
        "signer": {"key_id": key_id_of(public_key), "public_key": public_key.hex()},
    }
