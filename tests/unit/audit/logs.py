"""Synthetic audit logs for the audit tests: realistic events, no PHI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from claimbridge.audit.canonical import encode_event
from claimbridge.audit.chain import GENESIS, ChainedEvent, ChainHead, link

T0 = datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC)


def event_fields(seq: int, **changes: object) -> dict[str, object]:
    """The fields of a plausible audit event at ``seq`` (the shape of storage.audit)."""
    fields: dict[str, object] = {
        "seq": seq,
        "id": f"00000000-0000-4000-8000-{seq:012d}",
        "occurred_at": T0 + timedelta(seconds=seq, microseconds=seq),
        "actor_user_id": f"10000000-0000-4000-8000-{seq % 7:012d}",
        "actor_org_id": "20000000-0000-4000-8000-000000000001",
        "actor_roles": ["biller"] if seq % 2 else ["practice_staff", "privacy_officer"],
        "auth_method": "password+totp",
        "source_address": "192.0.2.10",
        "action": "phi:patient:read",
        "resource_type": "patient",
        "resource_id": f"30000000-0000-4000-8000-{seq:012d}",
        "tenant_id": "40000000-0000-4000-8000-000000000001",
        "patient_ref": f"{seq:064x}",
        "purpose": "payment",
        "outcome": "success" if seq % 5 else "denied",
        "request_id": f"req-{seq:08d}",
    }
    fields.update(changes)
    return fields


def chain_of(
    field_sets: Sequence[Mapping[str, object]], *, since: ChainHead = GENESIS
) -> list[ChainedEvent]:
    """Encode and link ``field_sets`` (their seqs must follow ``since``) as a writer would."""
    events: list[ChainedEvent] = []
    head = since
    for fields in field_sets:
        event = link(head, encode_event(fields))
        events.append(event)
        head = ChainHead(seq=event.seq, event_hash=event.event_hash)
    return events


def make_log(count: int, *, since: ChainHead = GENESIS) -> list[ChainedEvent]:
    """``count`` clean events following ``since``."""
    return chain_of([event_fields(since.seq + i + 1) for i in range(count)], since=since)


def head_of(events: Sequence[ChainedEvent]) -> ChainHead:
    if not events:
        return GENESIS
    return ChainHead(seq=events[-1].seq, event_hash=events[-1].event_hash)
