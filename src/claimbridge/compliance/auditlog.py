"""The audit trail as a practice's privacy officer or an outside auditor reads it.

Every read is authorised (``audit:event:read``) and itself audited, like
any other access. What each may see:

- a practice's privacy officer: the events about its own practice (its
  tenant), and the log-wide checkpoints and consistency proofs, which are
  hashes only;
- an outside auditor: every event (events hold no PHI values; patients
  are keyed references) and every proof.

The accounting of disclosures (45 CFR 164.528) lists, for one patient,
every recorded access: when, who (person and organisation), what, and
why. Only the practice's privacy officer may read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal, actor_of
from claimbridge.audit.canonical import encode_event
from claimbridge.audit.checkpointing import issue_checkpoint
from claimbridge.audit.checkpoints import SignedCheckpoint, parse_checkpoint
from claimbridge.audit.export import ExportedEvent, to_json_line
from claimbridge.audit.merkle import ProofUnavailable
from claimbridge.audit.proofs import ConsistencyProof, InclusionProof
from claimbridge.audit.record import AuditedDenial, Event, event_fields, record
from claimbridge.audit.treestore import stored_consistency_path, stored_inclusion_path
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.signing import SigningKey
from claimbridge.errors import NotFound
from claimbridge.phi.gateway import Gateway
from claimbridge.storage.audit import AuditEvent, checkpoint_at, latest_checkpoint
from claimbridge.storage.audit_search import search_events
from claimbridge.storage.orgs import Organisation, OrgKind, User

MAX_EVENTS_PAGE = 500


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One line of the accounting: an access to the patient's record."""

    seq: int
    occurred_at: datetime
    user: str | None
    organisation: str | None
    action: str
    resource_type: str | None
    resource_id: str | None
    purpose: str | None
    outcome: str


class AuditTrail:
    """Authorised, audited reads of the audit log for one principal."""

    def __init__(
        self,
        session: Session,
        keyring: Keyring,
        principal: Principal,
        *,
        now: datetime,
        request_id: str | None = None,
    ) -> None:
        self.session = session
        self.principal = principal
        self.now = now
        self.request_id = request_id
        self.gateway = Gateway(session, keyring, principal, now=now, request_id=request_id)

    # -- checkpoints and proofs -------------------------------------------------

    def checkpoint(self, tree_size: int | None = None) -> SignedCheckpoint:
        """The latest signed checkpoint, or the one at ``tree_size``."""
        self._allow("audit:checkpoint:read", resource_id=_size_id(tree_size))
        return self._stored_checkpoint(tree_size)

    def sign_now(self, key: SigningKey) -> SignedCheckpoint:
        """Sign the log as it stands, so a recent event can be proven in it."""
        self._allow("audit:checkpoint:issued")
        return issue_checkpoint(self.session, key, now=self.now)

    def consistency(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """A proof that the checkpoint at ``new_size`` (default: latest) extends ``old_size``'s."""
        self._allow("audit:proof:consistency", resource_id=f"{old_size}..{_size_id(new_size)}")
        new = self._stored_checkpoint(new_size)
        old = self._stored_checkpoint(old_size)
        path = stored_consistency_path(
            self.session, old.checkpoint.tree_size, new.checkpoint.tree_size
        )
        return ConsistencyProof(old=old, new=new, path=tuple(path))

    def inclusion(self, seq: int, tree_size: int | None = None) -> InclusionProof:
        """A proof that event ``seq`` is in the checkpoint at ``tree_size`` (default: latest)."""
        row = self._visible_event("audit:proof:inclusion", seq)
        checkpoint = self._stored_checkpoint(tree_size)
        size = checkpoint.checkpoint.tree_size
        if seq > size:
            raise ProofUnavailable(
                where="tree_size", detail=f"event {seq} is newer than the checkpoint at {size}"
            )
        return InclusionProof(
            checkpoint=checkpoint,
            seq=seq,
            canonical=encode_event(event_fields(row)),
            prev_hash=row.prev_hash or b"",
            path=tuple(stored_inclusion_path(self.session, seq, size)),
        )

    # -- events -------------------------------------------------------------------

    def events(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        action: str | None = None,
        actor_user_id: str | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """A page of the events this principal may see, oldest first, after ``after_seq``."""
        self._allow("audit:log:read")
        found = search_events(
            self.session,
            since=since,
            until=until,
            action=action,
            actor_user_id=actor_user_id,
            tenant_id=self._scope(),
            after_seq=after_seq,
            batch=min(max(limit, 1), MAX_EVENTS_PAGE),
        )
        page = []
        for row in found:
            page.append(event_json(row))
            if len(page) >= min(max(limit, 1), MAX_EVENTS_PAGE):
                break
        return page

    def disclosures(self, patient_id: str) -> list[Disclosure]:
        """The accounting of disclosures of one patient, oldest first."""
        ref = self.gateway.patient_audit_ref(
            patient_id, permission=Permission.DISCLOSURES_READ, action="audit:disclosures:read"
        )
        names = _Names(self.session)
        return [
            Disclosure(
                seq=row.seq,
                occurred_at=row.occurred_at,
                user=names.user(row.actor_user_id),
                organisation=names.organisation(row.actor_org_id),
                action=row.action,
                resource_type=row.resource_type,
                resource_id=row.resource_id,
                purpose=row.purpose,
                outcome=row.outcome,
            )
            for row in search_events(self.session, patient_ref=ref)
            if row.action != "audit:disclosures:read"
        ]

    # -- authorisation ------------------------------------------------------------

    def _scope(self) -> str | None:
        """Whose events this principal may read: its own practice's, or (auditors) all."""
        if self.principal.organisation_kind is OrgKind.AUDITOR:
            return None
        return self.principal.organisation_id

    def _allow(self, action: str, *, resource_id: str | None = None) -> None:
        self.gateway.require(Permission.AUDIT_READ, action, resource_type="audit_log")
        self._record(action, "success", resource_id=resource_id, tenant=self._scope())

    def _visible_event(self, action: str, seq: int) -> AuditEvent:
        """Event ``seq``, if this principal may see it; else an audited "not found"."""
        self.gateway.require(Permission.AUDIT_READ, action, resource_type="audit_event")
        row = self.session.get(AuditEvent, seq)
        scope = self._scope()
        if row is None or (scope is not None and row.tenant_id != scope):
            self._record(action, "denied", resource_id=str(seq), tenant=scope)
            raise AuditedDenial(
                NotFound(where=f"event {seq}", detail="no such event for this principal")
            )
        self._record(action, "success", resource_id=str(seq), tenant=row.tenant_id)
        return row

    def _record(
        self, action: str, outcome: str, *, resource_id: str | None, tenant: str | None
    ) -> None:
        record(
            self.session,
            Event(
                action=action,
                outcome=outcome,
                resource_type="audit_log",
                resource_id=resource_id,
                tenant_id=tenant,
                purpose="operations",
                request_id=self.request_id,
                actor=actor_of(self.principal),
            ),
            now=self.now,
        )

    def _stored_checkpoint(self, tree_size: int | None) -> SignedCheckpoint:
        row = (
            latest_checkpoint(self.session)
            if tree_size is None
            else checkpoint_at(self.session, tree_size)
        )
        if row is None:
            raise ProofUnavailable(
                where="tree_size", detail=f"no checkpoint at {_size_id(tree_size)}"
            )
        return parse_checkpoint(row.signed)


def event_json(row: AuditEvent) -> dict[str, Any]:
    """An event as the API and exports show it: its fields and chain hashes."""
    exported = ExportedEvent(
        fields=event_fields(row), event_hash=row.event_hash or b"", prev_hash=row.prev_hash or b""
    )
    parsed: dict[str, Any] = json.loads(to_json_line(exported))
    return parsed


class _Names:
    """Display names of users and organisations, looked up once each."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._users: dict[str, str | None] = {}
        self._orgs: dict[str, str | None] = {}

    def user(self, user_id: str | None) -> str | None:
        if user_id is None:
            return None
        if user_id not in self._users:
            user = self.session.get(User, user_id)
            self._users[user_id] = f"{user.display_name} <{user.email}>" if user else user_id
        return self._users[user_id]

    def organisation(self, org_id: str | None) -> str | None:
        if org_id is None:
            return None
        if org_id not in self._orgs:
            org = self.session.get(Organisation, org_id)
            self._orgs[org_id] = org.name if org else org_id
        return self._orgs[org_id]


def _size_id(tree_size: int | None) -> str:
    return "latest" if tree_size is None else str(tree_size)
