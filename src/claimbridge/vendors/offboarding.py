"""Ending an engagement: revoke at once, return the PHI, wait for receipt, shred, certify.

The steps, each audited:

1. ``terminate`` (the practice admin, ``vendors:engagement:manage``): the
   engagement is terminated in that transaction, so the billing company's
   next request is refused by the gate (``access/engagements.py``); its
   staff's break-glass grants on the practice expire at once; a
   ``Termination`` keeps the reason and when the data is to be destroyed
   if the practice never confirms receipt (30 days by default); both
   sides get a notice. ``vendors:engagement:terminated``, and
   ``access:break-glass:revoked`` for each grant ended.
2. ``export_return_package``: every record of the practice on this server
   and every stored file, in one archive sealed with a passphrase the
   practice admin gives (``returns.py``), stored for the practice to
   download (``open_return_package``). ``vendors:package:exported``,
   ``vendors:package:downloaded``.
3. ``confirm_receipt``: the practice has the package;
   ``vendors:package:receipt-confirmed``. ``confirm_and_shred`` shreds at
   once when nothing holds it; without a confirmation the shred is due at
   ``shred_after``, and a watcher runs it (``shredding.shred_due``).
4. ``shred`` and the certificate of destruction: ``shredding.py``.

Which data, and when the shred waits instead: ``terminations.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from claimbridge.access.engagements import refresh
from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal, actor_of
from claimbridge.audit.record import Actor, Event, record, unit_of_work
from claimbridge.crypto.envelope import DataKey
from claimbridge.crypto.passphrase import DEFAULT_SCRYPT_N, check_passphrase
from claimbridge.errors import Conflict, NotFound, ValidationFailed
from claimbridge.phi.exports import CHUNK, PracticeRecords
from claimbridge.storage.auth import BreakGlassGrant
from claimbridge.storage.orgs import Engagement, EngagementStatus, User
from claimbridge.storage.vendors import (
    Assessment,
    BusinessAssociateAgreement,
    NoticeKind,
    Termination,
)
from claimbridge.vendors.parties import EngagementScope
from claimbridge.vendors.returns import BuiltPackage, Document, Progress, build_package
from claimbridge.vendors.shredding import shred, shred_due
from claimbridge.vendors.terminations import (
    CERTIFICATE_READ,
    DOWNLOADED,
    EXPORTED,
    GRANT_REVOKED,
    RECEIPT_CONFIRMED,
    STATUS_READ,
    TERMINATED,
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

__all__ = [
    "DEFAULT_SHRED_AFTER",
    "Offboarding",
    "PackageDownload",
    "TerminationState",
    "TerminationView",
    "certificate_of",
    "confirm_and_shred",
    "confirm_receipt",
    "export_return_package",
    "open_return_package",
    "shred",
    "shred_due",
    "terminate",
    "termination_json",
    "termination_status",
]

DEFAULT_SHRED_AFTER = timedelta(days=30)
"""How long the data is kept for a practice that never confirms receipt of its package."""
MIN_SHRED_AFTER = timedelta(days=1)
MAX_SHRED_AFTER = timedelta(days=3650)
MAX_REASON = 2000
_MANAGE = Permission.ENGAGEMENT_MANAGE
_READ = Permission.ENGAGEMENT_READ


@dataclass(frozen=True, slots=True)
class PackageDownload:
    """Where the sealed package lies and the key to read it with; its download was audited."""

    engagement_id: str
    practice_id: str
    blob_key: str
    key: DataKey
    size: int
    sha256: str


def _find(
    session: Session,
    principal: Principal,
    engagement_id: str,
    permission: Permission,
    action: str,
    *,
    now: datetime,
    request_id: str | None,
) -> Engagement:
    """The engagement, if ``principal`` may use ``permission`` on it; refusals audited.

    Managing is the practice's alone (billing companies hold no
    ``vendors:engagement:manage``); reading is either side's.
    """
    scope = EngagementScope(session, principal, now=now, request_id=request_id)
    return scope.find(engagement_id, permission, action, resource_type="engagement")


# -- 1. terminate ------------------------------------------------------------------------------


def terminate(
    session: Session,
    principal: Principal,
    engagement_id: str,
    *,
    reason: str,
    now: datetime,
    shred_after: timedelta = DEFAULT_SHRED_AFTER,
    request_id: str | None = None,
) -> TerminationView:
    """End the engagement: the billing company is refused from this transaction's commit on."""
    engagement = _find(
        session, principal, engagement_id, _MANAGE, TERMINATED, now=now, request_id=request_id
    )
    reason = _reason(reason)
    if not MIN_SHRED_AFTER <= shred_after <= MAX_SHRED_AFTER:
        raise ValidationFailed(
            "The data is kept 1 to 3650 days for the practice's receipt.", where="shred_after_days"
        )
    session.refresh(engagement, with_for_update=True)
    if (
        engagement.status == EngagementStatus.TERMINATED.value
        or session.get(Termination, engagement.id) is not None
    ):
        raise Conflict("This engagement is already terminated.", where="engagement")
    actor = actor_of(principal)
    engagement.status = EngagementStatus.TERMINATED.value
    engagement.terminated_at = now
    engagement.active_until = None
    engagement.lapse_condition = "terminated"
    engagement.lapse_reason = "the engagement was terminated"
    handled = handled_phi(session, engagement)
    termination = Termination(
        engagement_id=engagement.id,
        reason=reason,
        requested_at=now,
        requested_by=principal.user_id,
        shred_after=now + shred_after if handled else now,
    )
    session.add(termination)
    # Every change the gate reads goes through refresh (for a terminated
    # engagement it has nothing left to do: standing() says terminated).
    refresh(session, engagement, now=now, actor=actor)
    _revoke_break_glass(session, engagement, actor, now=now, request_id=request_id)
    session.add(notice(engagement, NoticeKind.TERMINATED, _ended(termination, handled), now))
    audit_engagement(session, TERMINATED, engagement, actor=actor, now=now, request_id=request_id)
    session.flush()
    return view_of(session, engagement, termination, now)


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text or len(text) > MAX_REASON:
        raise ValidationFailed(
            f"Say why the engagement ends, in 1 to {MAX_REASON} characters.", where="reason"
        )
    return text


def _revoke_break_glass(
    session: Session, engagement: Engagement, actor: Actor, *, now: datetime, request_id: str | None
) -> None:
    """Emergency grants of the billing company's staff on the practice end with the engagement."""
    staff = select(User.id).where(User.organisation_id == engagement.billing_company_id)
    grants = session.scalars(
        select(BreakGlassGrant).where(
            BreakGlassGrant.tenant_id == engagement.practice_id,
            BreakGlassGrant.user_id.in_(staff),
            BreakGlassGrant.expires_at > now,
        )
    ).all()
    for grant in grants:
        grant.expires_at = now
        record(
            session,
            Event(
                action=GRANT_REVOKED,
                resource_type="break_glass_grant",
                resource_id=grant.id,
                tenant_id=engagement.practice_id,
                purpose="operations",
                request_id=request_id,
                actor=actor,
            ),
            now=now,
        )


def _ended(termination: Termination, handled: bool) -> str:
    if not handled:
        return (
            "The practice ended the engagement. No PHI was shared under it (no business "
            "associate agreement was signed): there is nothing to return or destroy."
        )
    return (
        "The practice ended the engagement: the billing company's access stopped at once. "
        "The practice's data is returned to it in an encrypted package; the copy on this "
        "server is destroyed (crypto-shredded) once the practice confirms receipt, or on "
        f"{termination.shred_after.date()}."
    )


# -- 2. the return package ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ExportPlan:
    practice_id: str
    key: DataKey
    about: dict[str, Any]
    documents: tuple[Document, ...]


def export_return_package(
    sessions: sessionmaker[Session],
    parts: Offboarding,
    principal: Principal,
    engagement_id: str,
    *,
    passphrase: str,
    now: datetime,
    progress: Progress | None = None,
    scrypt_n: int = DEFAULT_SCRYPT_N,
    chunk: int = CHUNK,
    request_id: str | None = None,
) -> TerminationView:
    """Make and store the return package of a terminated engagement, once.

    Three steps, none holding a write transaction while it streams: find
    what to export and commit the practice's blob key; read and seal
    everything; record the package, audited.
    """
    check_passphrase(passphrase)
    plan = unit_of_work(
        sessions,
        lambda session: _plan(
            session,
            parts=parts,
            principal=principal,
            engagement_id=engagement_id,
            now=now,
            request_id=request_id,
        ),
    )
    with sessions() as reading:
        built = build_package(
            PracticeRecords(reading, parts.keyring, parts.files, plan.practice_id, chunk=chunk),
            plan.about,
            passphrase=passphrase,
            files=parts.files,
            key=plan.key,
            documents=plan.documents,
            now=now,
            progress=progress,
            scrypt_n=scrypt_n,
        )
    try:
        return unit_of_work(
            sessions,
            lambda session: _record(
                session,
                principal=principal,
                engagement_id=engagement_id,
                built=built,
                now=now,
                request_id=request_id,
            ),
        )
    except BaseException:
        parts.files.store.delete(built.stored.blob_key)
        raise


def _plan(
    session: Session,
    *,
    parts: Offboarding,
    principal: Principal,
    engagement_id: str,
    now: datetime,
    request_id: str | None,
) -> _ExportPlan:
    engagement = _find(
        session, principal, engagement_id, _MANAGE, EXPORTED, now=now, request_id=request_id
    )
    termination = find_termination(session, engagement)
    state = state_of(session, engagement, termination, now)[0]
    if state is not TerminationState.PACKAGE_PENDING:
        raise Conflict(
            {
                TerminationState.CLOSED: "No PHI was handled under this engagement: "
                "there is nothing to return.",
                TerminationState.SHREDDED: "The practice's data was destroyed; "
                "no package can be made any more.",
            }.get(state, "The return package was made already; download it."),
            where="engagement",
        )
    baas = session.scalars(
        select(BusinessAssociateAgreement)
        .where(BusinessAssociateAgreement.engagement_id == engagement.id)
        .order_by(BusinessAssociateAgreement.signed_at)
    ).all()
    assessments = session.scalars(
        select(Assessment)
        .where(Assessment.engagement_id == engagement.id)
        .order_by(Assessment.created_at)
    ).all()
    about = {
        "engagement": {
            "id": engagement.id,
            "created_at": instant(engagement.created_at),
            "terminated_at": instant(engagement.terminated_at),
        },
        "practice": org_json(session, engagement.practice_id),
        "billing_company": org_json(session, engagement.billing_company_id),
        "assessments": [
            {
                "id": a.id,
                "questionnaire_version": a.questionnaire_version,
                "status": a.status,
                "rating": a.rating,
                "decided_at": instant(a.decided_at),
            }
            for a in assessments
        ],
        "baas": [
            {
                "id": b.id,
                "version": b.version,
                "signed_on": b.signed_on.isoformat(),
                "effective_on": b.effective_on.isoformat(),
                "expires_on": b.expires_on.isoformat() if b.expires_on else None,
                "on_termination": b.on_termination,
                "document_sha256": b.sha256,
            }
            for b in baas
        ],
    }
    documents = tuple(Document(f"baa-{b.id}", b.blob_key, b.media_type) for b in baas)
    key = parts.keyring.blob_key(session, engagement.practice_id)
    return _ExportPlan(engagement.practice_id, key, about, documents)


def _record(
    session: Session,
    *,
    principal: Principal,
    engagement_id: str,
    built: BuiltPackage,
    now: datetime,
    request_id: str | None,
) -> TerminationView:
    engagement = _find(
        session, principal, engagement_id, _MANAGE, EXPORTED, now=now, request_id=request_id
    )
    termination = find_termination(session, engagement, lock=True)
    if termination.package_blob_key is not None:
        raise Conflict("The return package was made already; download it.", where="engagement")
    termination.package_blob_key = built.stored.blob_key
    termination.package_sha256 = built.stored.sha256
    termination.package_size = built.stored.size_bytes
    termination.manifest = json.dumps(built.manifest, sort_keys=True)
    actor = actor_of(principal)
    audit_engagement(session, EXPORTED, engagement, actor=actor, now=now, request_id=request_id)
    session.flush()
    return view_of(session, engagement, termination, now)


def open_return_package(
    session: Session,
    parts: Offboarding,
    principal: Principal,
    engagement_id: str,
    *,
    now: datetime,
    request_id: str | None = None,
) -> PackageDownload:
    """The package for the practice to download; the download is audited before it starts."""
    engagement = _find(
        session, principal, engagement_id, _MANAGE, DOWNLOADED, now=now, request_id=request_id
    )
    termination = find_termination(session, engagement, missing=NotFound)
    blob_key = termination.package_blob_key
    if termination.shredded_at is not None or blob_key is None:
        gone = ": it was destroyed with the practice's data" if termination.shredded_at else ""
        raise NotFound(f"There is no return package to download{gone}.", where="engagement")
    key = parts.keyring.key_for(session, engagement.practice_id)(parts.files.data_key_id(blob_key))
    actor = actor_of(principal)
    audit_engagement(session, DOWNLOADED, engagement, actor=actor, now=now, request_id=request_id)
    return PackageDownload(
        engagement_id=engagement.id,
        practice_id=engagement.practice_id,
        blob_key=blob_key,
        key=key,
        size=termination.package_size or 0,
        sha256=termination.package_sha256 or "",
    )


# -- 3. receipt ----------------------------------------------------------------------------------


def confirm_receipt(
    session: Session,
    principal: Principal,
    engagement_id: str,
    *,
    now: datetime,
    request_id: str | None = None,
) -> TerminationView:
    """The practice has its package: the shred may run now, once nothing holds it."""
    engagement = _find(
        session,
        principal,
        engagement_id,
        _MANAGE,
        RECEIPT_CONFIRMED,
        now=now,
        request_id=request_id,
    )
    termination = find_termination(session, engagement, lock=True)
    if termination.shredded_at is not None:
        raise Conflict("The practice's data was destroyed already.", where="engagement")
    if termination.package_sha256 is None:
        raise Conflict("There is no return package to confirm yet.", where="engagement")
    if termination.receipt_confirmed_at is None:
        termination.receipt_confirmed_at = now
        termination.receipt_confirmed_by = principal.user_id
        actor = actor_of(principal)
        audit_engagement(
            session, RECEIPT_CONFIRMED, engagement, actor=actor, now=now, request_id=request_id
        )
        session.flush()
    return view_of(session, engagement, termination, now)


def confirm_and_shred(
    sessions: sessionmaker[Session],
    parts: Offboarding,
    principal: Principal,
    engagement_id: str,
    *,
    now: datetime,
    request_id: str | None = None,
) -> TerminationView:
    """Confirm receipt, then shred at once unless something holds it (the view says what)."""
    view = unit_of_work(
        sessions,
        lambda session: confirm_receipt(
            session, principal, engagement_id, now=now, request_id=request_id
        ),
    )
    if view.state is not TerminationState.SHRED_DUE:
        return view
    return shred(
        sessions, parts, engagement_id, now=now, principal=principal, request_id=request_id
    )


# -- reading -----------------------------------------------------------------------------------


def termination_status(
    session: Session,
    principal: Principal,
    engagement_id: str,
    *,
    now: datetime,
    request_id: str | None = None,
) -> TerminationView:
    """Where the termination stands; either side of the engagement may ask."""
    engagement = _find(
        session, principal, engagement_id, _READ, STATUS_READ, now=now, request_id=request_id
    )
    termination = find_termination(session, engagement, missing=NotFound)
    actor = actor_of(principal)
    audit_engagement(session, STATUS_READ, engagement, actor=actor, now=now, request_id=request_id)
    return view_of(session, engagement, termination, now)


def certificate_of(
    session: Session,
    principal: Principal,
    engagement_id: str,
    *,
    now: datetime,
    request_id: str | None = None,
) -> bytes:
    """The signed certificate of destruction, byte for byte as issued; either side may ask."""
    engagement = _find(
        session, principal, engagement_id, _READ, CERTIFICATE_READ, now=now, request_id=request_id
    )
    termination = find_termination(session, engagement, missing=NotFound)
    if termination.certificate is None:
        raise NotFound(
            "No certificate of destruction yet: the data has not been shredded.",
            where="engagement",
        )
    actor = actor_of(principal)
    audit_engagement(
        session, CERTIFICATE_READ, engagement, actor=actor, now=now, request_id=request_id
    )
    return bytes(termination.certificate)


def termination_json(
    session: Session, engagement: Engagement, *, now: datetime
) -> dict[str, Any] | None:
    """The termination part of an engagement's ``show``; the caller authorises and audits."""
    termination = session.get(Termination, engagement.id)
    if termination is None:
        return None
    return view_of(session, engagement, termination, now).to_json()
