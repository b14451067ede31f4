"""Key operations an operator runs: status, rotate, re-wrap, shred, rotate the root.

Each one writes an audit event in the transaction that changes the keys.
Re-wrapping works in short transactions, so it runs beside live traffic,
and after a crash the same command carries on where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from claimbridge.audit.record import Event, record
from claimbridge.clock import Clock
from claimbridge.config import Settings
from claimbridge.crypto.keyring import KekStatus, Keyring
from claimbridge.instance.auditkey import rewrap_audit_key
from claimbridge.instance.keys import begin_root_rotation, finish_root_rotation
from claimbridge.storage.orgs import Organisation, find_organisation

Progress = Callable[[int], None]
"""``progress(done_so_far)`` after each batch."""

REWRAP_BATCH = 200


@dataclass(frozen=True, slots=True)
class KeyStatusReport:
    providers: tuple[str, ...]
    primary_provider: str
    tenants: tuple[tuple[str, KekStatus], ...]  # (organisation name, status)


def key_status(session: Session, keyring: Keyring) -> KeyStatusReport:
    names = {org.id: org.name for org in session.scalars(select(Organisation))}
    return KeyStatusReport(
        providers=keyring.providers.provider_ids,
        primary_provider=keyring.providers.primary.provider_id,
        tenants=tuple((names.get(s.organisation_id, "?"), s) for s in keyring.status(session)),
    )


def rotate_tenant_key(session: Session, keyring: Keyring, org_ref: str, *, now: datetime) -> int:
    org = find_organisation(session, org_ref)
    version = keyring.rotate(session, org.id)
    record(session, _event("crypto:kek:rotated", org, f"v{version}"), now=now)
    return version


def rewrap_tenant_keys(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    org_ref: str,
    *,
    clock: Clock,
    progress: Progress | None = None,
    batch: int = REWRAP_BATCH,
) -> int:
    with sessions.begin() as session:
        org_id = find_organisation(session, org_ref).id
    done = 0
    while True:
        moved = _retrying(
            partial(_rewrap_batch, sessions, keyring, org_id, batch=batch, done=done, clock=clock)
        )
        done += moved
        if progress is not None:
            progress(done)
        if not moved:
            return done


def shred_tenant_keys(session: Session, keyring: Keyring, org_ref: str, *, now: datetime) -> int:
    org = find_organisation(session, org_ref)
    destroyed = keyring.shred(session, org.id)
    record(session, _event("crypto:kek:shredded", org, f"{destroyed} versions"), now=now)
    return destroyed


def rotate_root_key(
    settings: Settings,
    sessions: sessionmaker[Session],
    open_ring: Callable[[], Keyring],
    *,
    clock: Clock,
    progress: Progress | None = None,
) -> int:
    """Make a new root key, re-wrap every KEK under it, then destroy the old one."""
    begin_root_rotation(settings)
    done = 0
    with open_ring() as keyring:
        while moved := _rewrap_kek_batch(sessions, keyring):
            done += moved
            if progress is not None:
                progress(done)
        rewrap_audit_key(settings, keyring.providers)
        with sessions.begin() as session:
            record(
                session,
                Event(
                    action="crypto:root-key:rotated",
                    resource_type="root_key",
                    resource_id=keyring.providers.primary.provider_id,
                ),
                now=clock.now(),
            )
    finish_root_rotation(settings)
    return done


def _rewrap_batch(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    org_id: str,
    *,
    batch: int,
    done: int,
    clock: Clock,
) -> int:
    with sessions.begin() as session:
        moved = keyring.rewrap_some(session, org_id, limit=batch)
        if not moved:
            org = find_organisation(session, org_id)
            record(session, _event("crypto:data-keys:rewrapped", org, str(done)), now=clock.now())
        return moved


def _retrying(batch: Callable[[], int], *, attempts: int = 4) -> int:
    """Run one short transaction, again after a busy or dropped database.

    Each batch is all or nothing, so running it again is safe; beside live
    traffic on SQLite, waiting a moment is better than stopping the job.
    """
    for attempt in range(attempts):
        try:
            return batch()
        except OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _rewrap_kek_batch(sessions: sessionmaker[Session], keyring: Keyring) -> int:
    with sessions.begin() as session:
        return keyring.rewrap_keks_some(session)


def _event(action: str, org: Organisation, detail: str) -> Event:
    return Event(
        action=action,
        resource_type="organisation_keys",
        resource_id=f"{org.id}:{detail}",
        tenant_id=org.id,
    )
