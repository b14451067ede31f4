"""The tables behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from claimbridge.storage.claims import Claim, ServiceLine
from claimbridge.storage.clinical import Patient
from claimbridge.storage.orgs import Organisation, User, UserRole

NOW = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def _practice(session: Session, name: str = "Riverside Family Medicine") -> Organisation:
    org = Organisation(name=name, kind="practice", npi="1245319599", created_at=NOW)
    session.add(org)
    session.flush()
    return org


def _patient(session: Session, practice: Organisation) -> Patient:
    patient = Patient(
        practice_id=practice.id,
        given_name=b"\x01sealed",
        family_name=b"\x01sealed",
        birth_date=b"\x01sealed",
        created_at=NOW,
    )
    session.add(patient)
    session.flush()
    return patient


def test_ids_are_random_uuid4_not_sequential(session: Session) -> None:
    first, second = _practice(session, "A"), _practice(session, "B")
    assert first.id != second.id
    assert len(first.id) == 36 and first.id[14] == "4"


def test_instants_come_back_timezone_aware_in_utc(session: Session) -> None:
    eastern = timezone(timedelta(hours=-5))
    org = Organisation(
        name="Lakeside", kind="practice", created_at=datetime(2026, 3, 2, 9, 30, tzinfo=eastern)
    )
    session.add(org)
    session.commit()
    session.expire_all()
    loaded = session.get(Organisation, org.id)
    assert loaded is not None
    assert loaded.created_at == NOW
    assert loaded.created_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(session: Session) -> None:
    session.add(Organisation(name="X", kind="practice", created_at=datetime(2026, 1, 1)))  # noqa: DTZ001
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_unknown_organisation_kind_is_refused(session: Session) -> None:
    session.add(Organisation(name="X", kind="hospital", created_at=NOW))
    with pytest.raises(IntegrityError):
        session.flush()


def test_unknown_role_is_refused(session: Session) -> None:
    org = _practice(session)
    user = User(organisation_id=org.id, email="a@example.org", display_name="A", created_at=NOW)
    user.roles.append(UserRole(role="superuser"))
    session.add(user)
    with pytest.raises(IntegrityError):
        session.flush()


def test_email_must_be_stored_lower_case_and_unique(session: Session) -> None:
    org = _practice(session)
    session.add(
        User(organisation_id=org.id, email="A@example.org", display_name="A", created_at=NOW)
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(
        Patient(
            practice_id="00000000-0000-4000-8000-000000000000",
            given_name=b"x",
            family_name=b"x",
            birth_date=b"x",
            created_at=NOW,
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_claim_with_lines_round_trips_exact_money_and_units(session: Session) -> None:
    practice = _practice(session)
    patient = _patient(session, practice)
    claim = Claim(
        practice_id=practice.id,
        patient_id=patient.id,
        billing_npi="1245319599",
        place_of_service="11",
        diagnoses=["E119", "I10"],
        total_charge_cents=2_147_483_648_00,  # past 32 bits: BigInteger on both
        service_from=date(2026, 2, 27),
        service_through=date(2026, 2, 27),
        received_at=NOW,
        created_at=NOW,
    )
    claim.lines.append(
        ServiceLine(
            practice_id=practice.id,
            line_number=1,
            procedure_code="99214",
            modifiers=["25"],
            units=Decimal("1.5"),
            charge_cents=19_500,
            service_date=date(2026, 2, 27),
            diagnosis_pointers=[1, 2],
        )
    )
    session.add(claim)
    session.commit()
    session.expire_all()
    loaded = session.scalars(select(Claim).where(Claim.id == claim.id)).one()
    assert loaded.total_charge_cents == 2_147_483_648_00
    assert loaded.diagnoses == ["E119", "I10"]
    assert loaded.status == "received"
    (line,) = loaded.lines
    assert (line.units, line.charge_cents, line.modifiers) == (Decimal("1.500"), 19_500, ["25"])


def test_negative_charges_are_refused(session: Session) -> None:
    practice = _practice(session)
    patient = _patient(session, practice)
    session.add(
        Claim(
            practice_id=practice.id,
            patient_id=patient.id,
            billing_npi="1245319599",
            place_of_service="11",
            diagnoses=["I10"],
            total_charge_cents=-1,
            service_from=date(2026, 2, 27),
            service_through=date(2026, 2, 27),
            received_at=NOW,
            created_at=NOW,
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()
