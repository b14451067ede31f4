"""Writing an audit event, in the same transaction as what it records.

If the event cannot be written, the transaction fails, and with it the
access it describes: audit fails closed (DESIGN.md, invariant 3). Events
hold no PHI values; a patient is named only by a keyed reference.

The hash chain and Merkle tree over these events are the audit issue's
work; this module fixes the event's content and its total order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, sessionmaker

from claimbridge.audit.canonical import encode_event
from claimbridge.audit.chain import GENESIS, ChainHead, link
from claimbridge.errors import ClaimbridgeError
from claimbridge.storage.audit import AuditEvent, insert_event, last_event
from claimbridge.storage.db import lock_for_append
from claimbridge.types import new_id


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: a signed-in user, a machine client, or whoever holds the data directory."""

    user_id: str | None
    organisation_id: str | None
    roles: tuple[str, ...]
    auth_method: str
    source_address: str | None = None


LOCAL_OPERATOR = Actor(
    user_id=None,
    organisation_id=None,
    roles=("operator",),
    auth_method="local-data-dir",
    source_address="cli",
)
"""The person at the server's console: holds the data directory and the root key."""


@dataclass(frozen=True, slots=True)
class Event:
    action: str
    """``source:subject:action``, e.g. ``crypto:key:rotated``."""
    outcome: str = "success"
    resource_type: str | None = None
    resource_id: str | None = None
    tenant_id: str | None = None
    patient_ref: str | None = None
    purpose: str | None = None
    request_id: str | None = None
    actor: Actor = field(default=LOCAL_OPERATOR)


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Recorded:
    """Where an event landed in the log."""

    seq: int
    event_hash: bytes


def record(session: Session, event: Event, *, now: datetime) -> Recorded:
    """Append ``event`` to the log, chained to the event before it.

    The append lock is held until the caller's transaction ends, so events
    form one total order with no forks, on SQLite and PostgreSQL alike.
    Written with one Core INSERT (no ORM unit of work): this runs on every
    PHI access, so its cost is every request's cost.
    """
    lock_for_append(session, "audit")
    last = last_event(session)
    head = ChainHead(last[0], last[1] or GENESIS.event_hash) if last else GENESIS
    values: dict[str, object] = {
        "seq": head.seq + 1,
        "id": new_id(),
        "occurred_at": now,
        "actor_user_id": event.actor.user_id,
        "actor_org_id": event.actor.organisation_id,
        "actor_roles": list(event.actor.roles),
        "auth_method": event.actor.auth_method,
        "source_address": event.actor.source_address,
        "action": event.action,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "tenant_id": event.tenant_id,
        "patient_ref": event.patient_ref,
        "purpose": event.purpose,
        "outcome": event.outcome,
        "request_id": event.request_id,
    }
    chained = link(head, encode_event(values))
    insert_event(
        session, {**values, "prev_hash": chained.prev_hash, "event_hash": chained.event_hash}
    )
    return Recorded(seq=chained.seq, event_hash=chained.event_hash)


def event_fields(row: AuditEvent | Row[Any]) -> dict[str, object]:
    """The fields an event's hash covers, as ``canonical.encode_event`` takes them.

    IMPORTANT: adding, removing or renaming a field here changes every event
    hash from then on; old events keep verifying only if their fields are
    read back the same way.
    """
    return {
        "seq": row.seq,
        "id": row.id,
        "occurred_at": row.occurred_at,
        "actor_user_id": row.actor_user_id,
        "actor_org_id": row.actor_org_id,
        "actor_roles": list(row.actor_roles),
        "auth_method": row.auth_method,
        "source_address": row.source_address,
        "action": row.action,
        "resource_type": row.resource_type,
        "resource_id": row.resource_id,
        "tenant_id": row.tenant_id,
        "patient_ref": row.patient_ref,
        "purpose": row.purpose,
        "outcome": row.outcome,
        "request_id": row.request_id,
    }


class AuditedDenial(Exception):
    """A denial whose audit event is written; commit it, then raise ``public``."""

    def __init__(self, public: ClaimbridgeError) -> None:
        super().__init__(public.code)
        self.public = public


def unit_of_work(sessions: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Run ``work`` in one transaction; commit a denial's audit event before raising it."""
    denial: AuditedDenial | None = None
    with sessions.begin() as session:
        try:
            return work(session)
        except AuditedDenial as caught:
            denial = caught
    raise denial.public
