"""The billing company's outbound 837P: the one way claims leave, and only ready ones.

``outbound_837p`` runs in the caller's transaction:

1. The gateway asks the policy (``claims:claim:submit``, billers of a
   billing company the practice is actively engaged with now); a refusal
   is audited and raised.
2. The practice's billing identity (name, NPI, address, tax id) must be
   complete: the billing provider loop names it on every claim.
3. Up to ``limit`` of the practice's ``ready`` claims are taken, oldest
   first. Flagged claims are held: an open blocking finding keeps a claim
   out until it is overridden or resolved. Claims never scrubbed, or
   already sent, are not ready either.
4. One audit event (``phi:claims:submitted``) is written before any PHI is
   unsealed; if it cannot be written, nothing is sent.
5. The 837P is written, stored encrypted under the practice's key as an
   outbound batch (``GET /api/v1/batches/{id}/content`` fetches it again,
   audited), and the claims become ``submitted``.

The answer says what went, what is held and what is left: a submission
that sends nothing still says how many claims the scrub holds.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from claimbridge.access.principal import Principal
from claimbridge.billing.claims837 import (
    billing_identity,
    billing_provider,
    professional_claim,
    submission,
)
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.keyring import Keyring
from claimbridge.formats.x12.records837 import BillingProvider, Party, Submission
from claimbridge.formats.x12.write837p import write_837p
from claimbridge.phi.outbound import ClaimRelease, ReleasedClaim
from claimbridge.storage.batches import Batch, BatchFormat, BatchStatus
from claimbridge.storage.orgs import Organisation, OrgKind
from claimbridge.types import new_id

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "RECEIVER_ID", "Outbound", "outbound_837p"]

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
"""The guide's advice for claims per transaction set; one set per submission."""
RECEIVER_ID = "CLEARINGHOUSE"
"""ISA08 and 1000B: the clearinghouse the billing company sends through (one for now)."""


@dataclass(frozen=True, slots=True)
class Outbound:
    """What one submission did. ``content`` is the 837P itself (PHI): never shown in JSON."""

    practice_id: str
    batch_id: str | None
    claim_ids: tuple[str, ...]
    claims_held: int
    claims_remaining: int
    not_billable: dict[str, int]
    control_number: int | None = None
    content_sha256: str | None = None
    content: bytes = field(default=b"", repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "practice_id": self.practice_id,
            "batch_id": self.batch_id,
            "format": BatchFormat.X12_837P.value if self.batch_id else None,
            "claims_sent": len(self.claim_ids),
            "claim_ids": list(self.claim_ids),
            "claims_held": self.claims_held,
            "claims_remaining": self.claims_remaining,
            "claims_not_billable": self.not_billable,
            "control_number": self.control_number,
            "content_sha256": self.content_sha256,
            "size_bytes": len(self.content),
        }


def outbound_837p(
    session: Session,
    keyring: Keyring,
    files: SealedFiles,
    principal: Principal,
    *,
    practice_id: str,
    now: datetime,
    request_id: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Outbound:
    """Send the practice's ready claims in one 837P (not committed: the caller's transaction)."""
    release = ClaimRelease(
        session, keyring, principal, practice_id=practice_id, now=now, request_id=request_id
    )
    release.authorize()
    identity = billing_identity(session, practice_id)
    taken = release.take(billing_npi=identity.npi, limit=max(1, min(limit, MAX_LIMIT)))
    tally = release.tally(billing_npi=identity.npi)
    batch_id = new_id() if taken else None
    released = release.release(taken, batch_id=batch_id)
    outcome = Outbound(
        practice_id=practice_id,
        batch_id=None,
        claim_ids=(),
        claims_held=tally.held,
        claims_remaining=tally.ready,
        not_billable=tally.not_billable,
    )
    if batch_id is None:
        return outcome
    control = control_number(batch_id)
    head = submission(
        reference=batch_id,
        submitter=_submitter(session, principal),
        receiver=Party("receiver", RECEIVER_ID, id_kind="etin", identifier=RECEIVER_ID),
        now=now,
    )
    content = _write(released, head, billing_provider(identity), control=control, now=now)
    stored = files.put(session, practice_id, io.BytesIO(content))
    session.add(
        Batch(
            id=batch_id,
            practice_id=practice_id,
            recipient_id=_company(principal),
            sender_user_id=principal.user_id,
            format=BatchFormat.X12_837P.value,
            content_sha256=stored.sha256,
            size_bytes=stored.size_bytes,
            blob_key=stored.blob_key,
            status=BatchStatus.ISSUED.value,
            accepted_count=len(taken),
            rejected_count=0,
            received_at=now,
            direction="outbound",
        )
    )
    session.flush()
    release.mark_submitted(taken)
    return Outbound(
        practice_id=practice_id,
        batch_id=batch_id,
        claim_ids=tuple(taken),
        claims_held=tally.held,
        claims_remaining=tally.ready - len(taken),
        not_billable=tally.not_billable,
        control_number=control,
        content_sha256=stored.sha256,
        content=content,
    )


def control_number(batch_id: str) -> int:
    """A 9-digit ISA13/GS06 derived from the outbound batch's id."""
    return int(hashlib.sha256(batch_id.encode()).hexdigest(), 16) % 999_999_999 + 1


def submitter_id(organisation_id: str) -> str:
    """ISA06 and the submitter's ETIN: the billing company's id, as ISA's 15 characters."""
    return organisation_id.replace("-", "")[:15].upper()


def _write(
    released: list[ReleasedClaim],
    head: Submission,
    billing: BillingProvider,
    *,
    control: int,
    now: datetime,
) -> bytes:
    claims = [professional_claim(item, submission=head, billing=billing) for item in released]
    return write_837p(
        claims,
        sender=head.submitter.identifier,
        receiver=head.receiver.identifier,
        interchange_control_number=control,
        group_control_number=control,
        now=now,
        claims_per_set=MAX_LIMIT,
    )


def _submitter(session: Session, principal: Principal) -> Party:
    org = session.get(Organisation, principal.organisation_id)
    name = org.name if org is not None else principal.organisation_id
    return Party(
        "submitter",
        name.upper()[:60],
        id_kind="etin",
        identifier=submitter_id(principal.organisation_id),
    )


def _company(principal: Principal) -> str | None:
    """The billing company that sent it, which may fetch it again; ``None`` otherwise."""
    if principal.organisation_kind is OrgKind.BILLING_COMPANY:
        return principal.organisation_id
    return None  # pragma: no cover - only billers, a billing company's, may submit now
