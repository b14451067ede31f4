"""Finding audit events by time, actor, patient reference, action and tenant.

The export to a SIEM reads through here. Events stream in sequence order,
a batch at a time (keyset pagination on ``seq``), so an export of millions
of events holds one batch in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from claimbridge.errors import ValidationFailed
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.clinical import Patient

PREFIX_MARKS = (":", "*")
"""An action filter ending in one of these matches by prefix (``phi:``, ``phi:patient:*``)."""


def search_events(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor_user_id: str | None = None,
    patient_ref: str | None = None,
    action: str | None = None,
    tenant_id: str | None = None,
    after_seq: int = 0,
    before_seq: int | None = None,
    batch: int = 5000,
) -> Iterator[AuditEvent]:
    """The events matching every filter given, by sequence number.

    ``since`` is inclusive and ``until`` exclusive; both must be timezone-
    aware. ``action`` is an exact name, or a prefix when it ends in ``:`` or
    ``*`` (the ``*`` is dropped: ``phi:patient:*`` matches ``phi:patient:read``).
    ``after_seq`` resumes after an event already seen (a page's last);
    ``before_seq`` stops at the log as it stood then, so an export is one
    snapshot however many events arrive while it runs.
    """
    conditions = [
        *_time_conditions(since, until),
        *_exact_conditions(actor_user_id, patient_ref, tenant_id),
    ]
    if action is not None:
        conditions.append(action_condition(action))
    if before_seq is not None:
        conditions.append(AuditEvent.seq < before_seq)
    return _in_batches(session, conditions, after=after_seq, batch=batch)


def tenant_of_patient(session: Session, patient_id: str) -> str | None:
    """The practice a patient belongs to, or ``None``; reads no PHI column."""
    return session.scalar(select(Patient.practice_id).where(Patient.id == patient_id))


def action_condition(action: str) -> ColumnElement[bool]:
    """The SQL condition for an action filter (exact, or a prefix; see ``search_events``)."""
    prefix = action.removesuffix("*")
    if not action or "*" in prefix:
        raise ValidationFailed(
            "An action filter is a name, or a prefix ending in ':' or '*'.", where="action"
        )
    if not action.endswith(PREFIX_MARKS):
        return AuditEvent.action == action
    if not prefix:
        return true()
    # substr, not LIKE: LIKE ignores case on SQLite and treats '_' as a wildcard.
    return func.substr(AuditEvent.action, 1, len(prefix)) == prefix


def _time_conditions(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for name, instant in (("since", since), ("until", until)):
        if instant is not None and instant.utcoffset() is None:
            raise ValidationFailed("A time filter needs a time zone.", where=name)
    if since is not None:
        conditions.append(AuditEvent.occurred_at >= since)
    if until is not None:
        conditions.append(AuditEvent.occurred_at < until)
    return conditions


def _exact_conditions(
    actor_user_id: str | None, patient_ref: str | None, tenant_id: str | None
) -> list[ColumnElement[bool]]:
    wanted = (
        (AuditEvent.actor_user_id, actor_user_id),
        (AuditEvent.patient_ref, patient_ref),
        (AuditEvent.tenant_id, tenant_id),
    )
    return [column == value for column, value in wanted if value is not None]


def _in_batches(
    session: Session, conditions: list[ColumnElement[bool]], *, after: int, batch: int
) -> Iterator[AuditEvent]:
    # The session's identity map holds unchanged rows weakly, so a batch the
    # caller has finished with is freed without expunging it (expunging would
    # also detach rows the caller loaded itself).
    while True:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq > after, *conditions)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
