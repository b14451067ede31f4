"""Searching the audit log by time, actor, patient, action and tenant, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.audit.record import LOCAL_OPERATOR, Actor, Event, record
from claimbridge.errors import ValidationFailed
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.audit_search import search_events, tenant_of_patient
from claimbridge.storage.clinical import Patient
from claimbridge.storage.orgs import Organisation

T0 = datetime(2030, 5, 6, 7, 8, tzinfo=UTC)  # later than what other tests write
TENANT_A = "a0000000-0000-4000-8000-000000000001"
TENANT_B = "b0000000-0000-4000-8000-000000000002"
ALICE = Actor(
    user_id="a1ice000-0000-4000-8000-000000000001",
    organisation_id=None,
    roles=("biller",),
    auth_method="password+totp",
    source_address="192.0.2.1",
)
BOB = Actor(
    user_id="b0b00000-0000-4000-8000-000000000002",
    organisation_id=None,
    roles=("privacy_officer",),
    auth_method="password+totp",
    source_address="192.0.2.2",
)
REF_1, REF_2 = "1" * 32, "2" * 32

# (minutes after T0, actor, action, tenant, patient reference)
SCRIPT = [
    (0, ALICE, "phi:patient:read", TENANT_A, REF_1),
    (1, ALICE, "phi:patient:list", TENANT_A, None),
    (2, BOB, "phi:patient:read", TENANT_B, REF_2),
    (3, LOCAL_OPERATOR, "crypto:key:rotated", TENANT_A, None),
    (4, BOB, "phi:claim:read", TENANT_A, REF_1),
    (5, ALICE, "phi:patient_x:read", TENANT_B, REF_2),
    (6, LOCAL_OPERATOR, "audit:log:exported", None, None),
    (7, ALICE, "phi:patient:read", TENANT_A, REF_1),
]


@pytest.fixture
def written(session: Session) -> list[AuditEvent]:
    """The script's events, after whatever the database already held."""
    rows = []
    for minutes, actor, action, tenant, ref in SCRIPT:
        event = Event(
            action=action,
            tenant_id=tenant,
            patient_ref=ref,
            actor=actor,
            resource_type="patient",
            resource_id=f"r{minutes}",
        )
        rows.append(record(session, event, now=T0 + timedelta(minutes=minutes)))
    return rows


def _expected(session: Session, keep: Callable[[AuditEvent], bool]) -> list[int]:
    everything = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    return [row.seq for row in everything if keep(row)]


def _found(session: Session, **filters: object) -> list[int]:
    return [row.seq for row in search_events(session, **filters)]


def test_no_filter_gives_every_event_in_order(session: Session, written: list[AuditEvent]) -> None:
    found = _found(session)
    assert found == _expected(session, lambda row: True)
    assert found[-len(written) :] == [row.seq for row in written]


def test_time_window_includes_since_and_excludes_until(
    session: Session, written: list[AuditEvent]
) -> None:
    since, until = T0 + timedelta(minutes=2), T0 + timedelta(minutes=5)
    found = _found(session, since=since, until=until)
    assert found == [row.seq for row in written[2:5]]
    assert found == _expected(session, lambda row: since <= row.occurred_at < until)


def test_a_time_filter_in_another_zone_means_the_same_instant(
    session: Session, written: list[AuditEvent]
) -> None:
    eastern = timezone(timedelta(hours=-5))
    since = (T0 + timedelta(minutes=6)).astimezone(eastern)
    assert _found(session, since=since) == [row.seq for row in written[6:]]


def test_actor_filter(session: Session, written: list[AuditEvent]) -> None:
    found = _found(session, actor_user_id=BOB.user_id)
    assert found == [written[2].seq, written[4].seq]
    assert found == _expected(session, lambda row: row.actor_user_id == BOB.user_id)


def test_patient_filter_matches_the_keyed_reference(
    session: Session, written: list[AuditEvent]
) -> None:
    assert _found(session, patient_ref=REF_1) == [written[i].seq for i in (0, 4, 7)]
    assert _found(session, patient_ref=REF_2, tenant_id=TENANT_B) == [
        written[i].seq for i in (2, 5)
    ]


@pytest.mark.parametrize(
    ("action", "indexes"),
    [
        ("phi:patient:read", (0, 2, 7)),
        ("phi:patient:", (0, 1, 2, 7)),
        ("phi:patient:*", (0, 1, 2, 7)),
        ("phi:patient*", (0, 1, 2, 5, 7)),
        ("phi:", (0, 1, 2, 4, 5, 7)),
        ("crypto:*", (3,)),
        ("PHI:", ()),  # case counts, on SQLite too
        ("phi_patient:", ()),  # '_' is a character, not LIKE's wildcard
        ("phi:patient", ()),  # no mark: exact only
    ],
)
def test_action_filter_is_exact_or_a_prefix(
    session: Session, written: list[AuditEvent], action: str, indexes: tuple[int, ...]
) -> None:
    found = _found(session, action=action, since=T0)
    assert found == [written[i].seq for i in indexes]


def test_a_lone_star_matches_every_action(session: Session, written: list[AuditEvent]) -> None:
    assert _found(session, action="*", since=T0) == [row.seq for row in written]


def test_filters_combine(session: Session, written: list[AuditEvent]) -> None:
    found = _found(
        session,
        actor_user_id=ALICE.user_id,
        action="phi:patient:read",
        tenant_id=TENANT_A,
        since=T0 + timedelta(seconds=1),
    )
    assert found == [written[7].seq]


def test_before_seq_stops_at_a_snapshot(session: Session, written: list[AuditEvent]) -> None:
    cut = written[4].seq
    assert _found(session, since=T0, before_seq=cut) == [row.seq for row in written[:4]]


def test_after_seq_resumes_after_a_page(session: Session, written: list[AuditEvent]) -> None:
    page = written[2].seq
    assert _found(session, action="phi:", after_seq=page) == [written[i].seq for i in (4, 5, 7)]


@pytest.mark.parametrize("batch", [1, 2, 3, 100])
def test_small_batches_give_the_same_stream(
    session: Session, written: list[AuditEvent], batch: int
) -> None:
    assert _found(session, batch=batch, action="phi:") == _found(session, action="phi:")


@pytest.mark.parametrize("action", ["", "phi*:read", "*phi", "**"])
def test_a_malformed_action_filter_is_refused(session: Session, action: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        search_events(session, action=action)
    assert caught.value.where == "action"


def test_a_naive_time_filter_is_refused(session: Session) -> None:
    with pytest.raises(ValidationFailed) as caught:
        search_events(session, until=datetime(2026, 3, 2))  # noqa: DTZ001
    assert caught.value.where == "until"


def test_tenant_of_patient(session: Session) -> None:
    practice = Organisation(name="Riverside Family Medicine", kind="practice", created_at=T0)
    session.add(practice)
    session.flush()
    patient = Patient(
        practice_id=practice.id,
        given_name=b"\x01",
        family_name=b"\x01",
        birth_date=b"\x01",
        created_at=T0,
    )
    session.add(patient)
    session.flush()
    assert tenant_of_patient(session, patient.id) == practice.id
    assert tenant_of_patient(session, "00000000-0000-4000-8000-000000000000") is None
