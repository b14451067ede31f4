"""The outbound 837P: only ready claims leave, held ones stay, each claim goes once.

A CSV charge file trips the NCCI PTP edit (80053 with 82947, modifier
indicator 0) on one claim, so the scrub flags it; the biller's submission
carries the others, read back with ``read_837p``. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from claimbridge.access.engagements import EngagementInactive
from claimbridge.access.principal import Principal
from claimbridge.audit.record import LOCAL_OPERATOR, AuditedDenial
from claimbridge.billing.outbound import Outbound, outbound_837p
from claimbridge.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from claimbridge.formats.cms import PtpEdit, write_ptp
from claimbridge.formats.x12.records837 import reference_value
from claimbridge.formats.x12.x837p import ProfessionalClaim, read_837p
from claimbridge.integrity.findings import FindingAccess
from claimbridge.integrity.references import load_reference
from claimbridge.phi.batches import BatchAccess
from claimbridge.phi.outbound import ClaimRelease
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.batches import Batch
from claimbridge.storage.claims import Claim
from claimbridge.storage.integrity import FindingRow, PtpEditRow, ReferenceTable, TableKind
from claimbridge.storage.orgs import Engagement, Organisation, OrgKind, Role
from tests.functional.exchange.conftest import NOW, ExchangeWorld
from tests.functional.exchange.test_integrity import BILLING_NPI, RENDERING_NPI, charges

HELD = (
    {"claim_id": "C1", "procedure_code": "80053"},
    {"claim_id": "C1", "procedure_code": "82947"},
)
READY = (
    {"claim_id": "C2", "procedure_code": "99213", "patient_account": "ACC-2"},
    {
        "claim_id": "C3",
        "procedure_code": "99212",
        "patient_account": "ACC-3",
        "patient_last_name": "Sample",
        "patient_first_name": "Bea",
        "patient_birth_date": "1961-07-02",
        "member_id": "XEX900800701",
    },
)


@pytest.fixture
def ptp(exchange_world: ExchangeWorld, tmp_path: Path) -> Iterator[None]:
    """The PTP table the scrub holds 80053 with 82947 by; removed after the test."""
    w = exchange_world
    path = tmp_path / "ccipra-v321r0-f1.TXT"
    with path.open("wb") as out:
        write_ptp([PtpEdit("80053", "82947", True, date(1996, 1, 1), None, 0, "CPT")], out)
    load_reference(
        w.sessions, TableKind.PTP, path, effective_from=date(2026, 1, 1), now=NOW,
        actor=LOCAL_OPERATOR,
    )  # fmt: skip
    yield
    with w.sessions.begin() as session:
        session.execute(delete(PtpEditRow))
        session.execute(delete(ReferenceTable))


@pytest.fixture
def world(exchange_world: ExchangeWorld, ptp: None) -> ExchangeWorld:
    """Riverside with its billing identity (the billing provider loop names it)."""
    w = exchange_world
    with w.sessions.begin() as session:
        session.execute(
            update(Organisation)
            .where(Organisation.id == w.riverside)
            .values(
                npi=BILLING_NPI,
                tax_id="12-3456789",
                address_line="1 Clinic Way",
                address_city="Springfield",
                address_state="IL",
                address_postal_code="627010001",
            )
        )
    return w


def person(w: ExchangeWorld, org: str, kind: OrgKind, role: Role) -> Principal:
    return Principal(
        user_id=None,
        organisation_id=org,
        organisation_kind=kind,
        roles=frozenset({role}),
        auth_method="api-token",
        mfa=True,
    )


def submit(w: ExchangeWorld, principal: Principal | None = None, **kwargs: Any) -> Outbound:
    with w.sessions.begin() as session:
        return outbound_837p(
            session,
            w.service.keyring,
            w.service.files,
            principal or w.biller(),
            practice_id=kwargs.pop("practice_id", w.riverside),
            now=w.clock.now(),
            **kwargs,
        )


def refused(w: ExchangeWorld, principal: Principal) -> Exception:
    with w.sessions.begin() as session, pytest.raises(AuditedDenial) as denial:
        outbound_837p(
            session,
            w.service.keyring,
            w.service.files,
            principal,
            practice_id=w.riverside,
            now=w.clock.now(),
        )
    return denial.value.public


def claims_in(w: ExchangeWorld, batch_id: str) -> list[ProfessionalClaim]:
    """The 837P as stored, decrypted and read back."""
    with w.sessions() as session:
        batch = session.get(Batch, batch_id)
        assert batch is not None and batch.blob_key is not None
        files = w.service.files
        key = w.service.keyring.key_for(session, w.riverside)(files.data_key_id(batch.blob_key))
    with files.reader(w.riverside, batch.blob_key, key) as stream:
        content = stream.read()
    reading = read_837p(content)
    claims = list(reading)
    assert all(result.accepted for result in reading.results), reading.results
    return claims


def statuses(w: ExchangeWorld) -> dict[str, str]:
    with w.sessions() as session:
        rows = session.execute(
            select(Claim.id, Claim.status).where(Claim.practice_id == w.riverside)
        ).all()
    return {str(claim_id): str(status) for claim_id, status in rows}


def ids_by_status(w: ExchangeWorld, status: str) -> set[str]:
    return {claim_id for claim_id, s in statuses(w).items() if s == status}


def events(w: ExchangeWorld) -> list[tuple[str, str, str | None, str | None]]:
    with w.sessions() as session:
        rows = session.execute(
            select(
                AuditEvent.outcome, AuditEvent.resource_type, AuditEvent.resource_id,
                AuditEvent.tenant_id,
            )
            .where(
                AuditEvent.action == "phi:claims:submitted",
                AuditEvent.tenant_id == w.riverside,
            )
            .order_by(AuditEvent.seq)
        ).all()  # fmt: skip
    return [(r.outcome, r.resource_type, r.resource_id, r.tenant_id) for r in rows]


def test_only_ready_claims_go_out_and_the_flagged_one_is_held(world: ExchangeWorld) -> None:
    w = world
    w.send(charges(*HELD, *READY), format="csv")
    ready, flagged = ids_by_status(w, "ready"), ids_by_status(w, "flagged")
    assert (len(ready), len(flagged)) == (2, 1)

    sent = submit(w)

    assert set(sent.claim_ids) == ready
    assert (sent.claims_held, sent.claims_remaining, sent.not_billable) == (1, 0, {})
    assert sent.batch_id is not None
    claims = claims_in(w, sent.batch_id)
    assert sorted(c.claim_id for c in claims) == ["C2", "C3"]  # CLM01 as the practice sent it
    assert {reference_value(c.references, "D9") for c in claims} == ready
    assert all(c.billing_provider.provider.npi == BILLING_NPI for c in claims)
    assert all(c.billing_provider.provider.tax_id == "123456789" for c in claims)
    assert ids_by_status(w, "submitted") == ready
    assert ids_by_status(w, "flagged") == flagged
    with w.sessions() as session:
        batch = session.get(Batch, sent.batch_id)
        submitted_at = session.scalars(select(Claim.submitted_at).where(Claim.id.in_(ready)))
        assert {when.replace(tzinfo=NOW.tzinfo) for when in submitted_at if when} == {NOW}
    assert batch is not None
    assert (batch.direction, batch.format, batch.status) == ("outbound", "x12-837p", "issued")
    assert (batch.practice_id, batch.recipient_id, batch.accepted_count) == (
        w.riverside,
        w.summit,
        2,
    )


def test_an_override_sends_the_held_claim_next_and_no_claim_goes_twice(
    world: ExchangeWorld,
) -> None:
    w = world
    w.send(charges(*HELD, *READY), format="csv")
    first = submit(w)
    (held,) = ids_by_status(w, "flagged")
    with w.sessions() as session:
        finding = session.scalars(select(FindingRow.id).where(FindingRow.claim_id == held)).one()
    coder = person(w, w.summit, OrgKind.BILLING_COMPANY, Role.CODER)
    with w.sessions.begin() as session:
        FindingAccess(session, coder, w.service.keyring, now=NOW).decide(
            finding, status="overridden", reason="Separate specimen drawn, documented"
        )

    second = submit(w)
    third = submit(w)

    assert second.claim_ids == (held,)
    assert second.claims_held == 0
    assert second.batch_id is not None
    assert [c.claim_id for c in claims_in(w, second.batch_id)] == ["C1"]
    assert not set(first.claim_ids) & set(second.claim_ids)
    assert (third.batch_id, third.claim_ids, third.claims_remaining) == (None, (), 0)
    assert set(statuses(w).values()) == {"submitted"}


def test_two_submissions_at_once_never_send_a_claim_twice(world: ExchangeWorld) -> None:
    w = world
    w.send(charges(*READY), format="csv")
    second: list[Outbound] = []
    with w.sessions.begin() as session:
        first = outbound_837p(
            session,
            w.service.keyring,
            w.service.files,
            w.biller(),
            practice_id=w.riverside,
            now=w.clock.now(),
        )
        # Another biller submits while the first has not committed: it waits for
        # the first (SQLite) or skips the claims the first holds (PostgreSQL).
        other = threading.Thread(target=lambda: second.append(submit(w)))
        other.start()
    other.join(timeout=30)

    assert len(first.claim_ids) == 2
    assert [(s.batch_id, s.claim_ids) for s in second] == [(None, ())]
    assert w.count(Batch, practice_id=w.riverside, direction="outbound") == 1


def test_a_limit_sends_the_oldest_first_and_the_rest_remain(world: ExchangeWorld) -> None:
    w = world
    w.send(charges(READY[1]), format="csv")
    w.clock.advance(timedelta(minutes=5))
    w.send(charges(READY[0]), format="csv")
    with w.sessions() as session:
        oldest = session.scalars(
            select(Claim.id).where(Claim.practice_id == w.riverside).order_by(Claim.received_at)
        ).first()

    one = submit(w, limit=1)
    rest = submit(w, limit=10)

    assert (one.claim_ids, one.claims_remaining) == ((oldest,), 1)
    assert len(rest.claim_ids) == 1 and rest.claim_ids != one.claim_ids
    assert rest.claims_remaining == 0


def test_claims_an_837p_cannot_carry_stay_ready_and_are_counted(world: ExchangeWorld) -> None:
    w = world
    dependant = {
        "claim_id": "C4",
        "procedure_code": "99213",
        "patient_account": "ACC-4",
        "patient_first_name": "Cleo",
        "patient_birth_date": "2015-05-05",
        "relationship": "child",
        "subscriber_last_name": "Example",
        "subscriber_first_name": "Alma",
        "subscriber_birth_date": "1958-03-14",
    }
    elsewhere = {"claim_id": "C5", "procedure_code": "99214", "billing_npi": RENDERING_NPI}
    w.send(charges(READY[0], dependant, elsewhere), format="csv")

    sent = submit(w)

    assert len(sent.claim_ids) == 1
    assert sent.not_billable == {"dependent_coverage": 1, "other_billing_npi": 1}
    assert len(ids_by_status(w, "ready")) == 2


def test_billers_only_and_only_for_an_engaged_practice(world: ExchangeWorld) -> None:
    w = world
    w.send(charges(*READY), format="csv")
    staff = w.staff(w.riverside)
    coder = person(w, w.summit, OrgKind.BILLING_COMPANY, Role.CODER)
    stranger = person(w, w.northwind, OrgKind.BILLING_COMPANY, Role.BILLER)
    no_second_factor = Principal(**{**_fields(w.biller()), "mfa": False})

    assert isinstance(refused(w, staff), AccessDenied)
    assert isinstance(refused(w, coder), AccessDenied)
    assert isinstance(refused(w, no_second_factor), AccessDenied)
    assert isinstance(refused(w, stranger), NotFound)

    assert events(w) == [("denied", "batch", None, w.riverside)] * 4
    assert len(ids_by_status(w, "ready")) == 2
    assert w.count(Batch, practice_id=w.riverside, direction="outbound") == 0


def test_the_submission_stops_when_the_engagement_lapses(world: ExchangeWorld) -> None:
    w = world
    w.send(charges(*READY), format="csv")
    with w.sessions.begin() as session:
        expiry = session.scalars(
            select(Engagement.active_until).where(Engagement.practice_id == w.riverside)
        ).one()
    w.clock.advance(expiry.replace(tzinfo=NOW.tzinfo) - NOW + timedelta(seconds=1))

    # The billing company knows its own engagement: it is told why, not "not found".
    lapsed = refused(w, w.biller())
    assert isinstance(lapsed, EngagementInactive), lapsed
    # This world's engagement was written with neither an assessment nor a BAA: both are named.
    assert lapsed.where == "assessment_not_approved"
    assert "business associate agreement" in lapsed.reason
    assert len(ids_by_status(w, "ready")) == 2


def test_an_unknown_practice_is_not_found_and_logged_without_a_tenant(
    world: ExchangeWorld,
) -> None:
    w = world
    for nowhere in (w.summit, "no-such-practice"):  # an organisation but no practice; nothing
        with w.sessions.begin() as session, pytest.raises(AuditedDenial) as denial:
            outbound_837p(
                session,
                w.service.keyring,
                w.service.files,
                w.biller(),
                practice_id=nowhere,
                now=w.clock.now(),
            )
        assert isinstance(denial.value.public, NotFound)
    with w.sessions() as session:
        logged = session.execute(
            select(AuditEvent.outcome, AuditEvent.tenant_id).where(
                AuditEvent.action == "phi:claims:submitted", AuditEvent.actor_org_id == w.summit
            )
        ).all()
    assert [tuple(row) for row in logged] == [("denied", None)] * 2


def test_a_claim_that_changes_before_it_is_marked_stops_the_submission(
    world: ExchangeWorld,
) -> None:
    w = world
    w.send(charges(*READY), format="csv")
    with w.sessions.begin() as session:
        release = ClaimRelease(
            session, w.service.keyring, w.biller(), practice_id=w.riverside, now=NOW
        )
        with pytest.raises(AccessDenied):
            release.take(billing_npi=BILLING_NPI, limit=10)
        release.authorize()
        taken = release.take(billing_npi=BILLING_NPI, limit=10)
        session.execute(update(Claim).where(Claim.id == taken[0]).values(status="void"))
        with pytest.raises(Conflict):
            release.mark_submitted(taken)
        session.rollback()
    assert len(ids_by_status(w, "ready")) == 2


def test_a_practice_without_its_billing_identity_is_refused_by_name(
    world: ExchangeWorld,
) -> None:
    w = world
    w.send(charges(*READY), format="csv")
    with w.sessions.begin() as session:
        session.execute(
            update(Organisation)
            .where(Organisation.id == w.riverside)
            .values(tax_id=None, address_city=" ")
        )

    with pytest.raises(ValidationFailed) as refusal:
        submit(w)

    assert refusal.value.where == "practice"
    assert "tax id" in refusal.value.message and "city" in refusal.value.message
    assert "NPI" not in refusal.value.message
    assert len(ids_by_status(w, "ready")) == 2
    assert events(w) == []


def test_one_event_is_written_and_without_it_nothing_is_sent(
    world: ExchangeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    w.send(charges(*READY), format="csv")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("audit store unavailable")

    with monkeypatch.context() as patched:
        patched.setattr("claimbridge.phi.outbound.record", broken)
        with pytest.raises(RuntimeError):
            submit(w)
    assert len(ids_by_status(w, "ready")) == 2
    assert w.count(Batch, practice_id=w.riverside, direction="outbound") == 0

    sent = submit(w)

    assert events(w) == [("success", "batch", sent.batch_id, w.riverside)]
    with w.sessions() as session:
        purpose = session.scalars(
            select(AuditEvent.purpose).where(AuditEvent.resource_id == sent.batch_id)
        ).one()
    assert purpose == "payment"


def test_the_patient_round_trips_and_nothing_is_left_in_the_clear(world: ExchangeWorld) -> None:
    w = world
    w.send(charges(*READY), format="csv")
    before = set(w.blob_files())

    sent = submit(w)

    assert sent.batch_id is not None
    by_account = {c.claim_id: c for c in claims_in(w, sent.batch_id)}
    alma = by_account["C2"].subscriber
    assert (alma.person.name, alma.person.first_name) == ("EXAMPLE", "ALMA")
    assert (alma.person.identifier, alma.person.birth_date) == ("XEX100200301", date(1958, 3, 14))
    assert (alma.payer.identifier, alma.relationship, alma.responsibility) == ("EXHP1", "18", "P")
    bea = by_account["C3"].subscriber.person
    assert (bea.name, bea.first_name, bea.identifier) == ("SAMPLE", "BEA", "XEX900800701")
    line = by_account["C2"].lines[0]
    assert (line.procedure, line.charge.cents, line.diagnosis_pointers) == ("99213", 5000, (1,))
    assert [d.code for d in by_account["C2"].diagnoses] == ["E119", "I10"]
    (blob,) = set(w.blob_files()) - before
    stored = blob.read_bytes()
    assert b"ST*837" in sent.content
    for clear in (b"EXAMPLE", b"Example", b"XEX100200301", b"19580314", b"ST*837"):
        assert clear not in stored
    shown = str(sent.to_json())
    assert "EXAMPLE" not in shown and "XEX100200301" not in shown and "1958" not in shown


def test_the_837p_is_fetched_again_by_its_company_and_its_practice_only(
    world: ExchangeWorld,
) -> None:
    w = world
    w.send(charges(*READY), format="csv")
    sent = submit(w)
    assert sent.batch_id is not None

    def content(principal: Principal) -> str:
        with w.sessions.begin() as session:
            return (
                BatchAccess(session, principal, now=w.clock.now())
                .content(sent.batch_id or "")
                .content_sha256
            )

    assert content(w.biller()) == sent.content_sha256
    assert content(w.staff(w.riverside)) == sent.content_sha256
    for outsider in (
        w.staff(w.lakeside),
        person(w, w.northwind, OrgKind.BILLING_COMPANY, Role.BILLER),
    ):
        with pytest.raises(AuditedDenial) as denial:
            content(outsider)
        assert isinstance(denial.value.public, NotFound)


def _fields(principal: Principal) -> dict[str, Any]:
    return {name: getattr(principal, name) for name in Principal.__dataclass_fields__}
