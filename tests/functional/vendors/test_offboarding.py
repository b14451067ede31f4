"""Ending an engagement: access ends at once, the data comes back, then it is destroyed.

On SQLite and PostgreSQL, with a practice that has real data: batches in
(an 837P and a CSV), our 999, an outbound 837P a biller sent, findings and
a decision (``ended.practice_data``).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from claimbridge.access.engagements import EngagementInactive
from claimbridge.audit.record import AuditedDenial, unit_of_work
from claimbridge.billing.outbound import outbound_837p
from claimbridge.config import Settings
from claimbridge.crypto.errors import DecryptionFailed
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from claimbridge.phi.exports import TABLES, PracticeRecords
from claimbridge.phi.gateway import Gateway
from claimbridge.storage.auth import BreakGlassGrant
from claimbridge.storage.batches import Batch
from claimbridge.storage.blobs import BlobStore
from claimbridge.storage.claims import Claim, ServiceLine
from claimbridge.storage.clinical import Coverage, Encounter, Patient
from claimbridge.storage.integrity import FindingRow
from claimbridge.storage.orgs import Engagement, EngagementStatus, Role, engaged_practices
from claimbridge.storage.vendors import EngagementNotice, Termination
from claimbridge.vendors.offboarding import (
    TerminationState,
    TerminationView,
    confirm_and_shred,
    confirm_receipt,
    export_return_package,
    open_return_package,
    shred,
    shred_due,
    terminate,
    termination_status,
)
from claimbridge.vendors.returns import PackageUnreadable, unpack
from claimbridge.vendors.watch import Watcher
from tests.functional.vendors.conftest import VendorWorld
from tests.functional.vendors.ended import FAST, PASSPHRASE, PracticeData, build

MODELS: dict[str, Any] = {
    "patients": Patient,
    "coverages": Coverage,
    "encounters": Encounter,
    "claims": Claim,
    "service_lines": ServiceLine,
    "findings": FindingRow,
    "batches": Batch,
}


@pytest.fixture
def practice_data(vendor_world: VendorWorld) -> PracticeData:
    return build(vendor_world)


def end(d: PracticeData, engagement: str | None = None, **kwargs: Any) -> TerminationView:
    """Terminate as the practice admin (committed)."""
    return unit_of_work(
        d.w.sessions,
        lambda session: terminate(
            session,
            d.admin,
            engagement or d.engagement,
            reason="We are moving billing in-house.",
            now=d.w.clock.now(),
            **kwargs,
        ),
    )


def export(d: PracticeData, engagement: str | None = None, **kwargs: Any) -> TerminationView:
    return export_return_package(
        d.w.sessions,
        d.parts,
        d.admin,
        engagement or d.engagement,
        passphrase=PASSPHRASE,
        now=d.w.clock.now(),
        scrypt_n=FAST,
        **kwargs,
    )


def download(d: PracticeData, to: Path) -> str:
    """The sealed package as the practice downloads it; its SHA-256."""
    found = unit_of_work(
        d.w.sessions,
        lambda session: open_return_package(
            session, d.parts, d.admin, d.engagement, now=d.w.clock.now()
        ),
    )
    with d.w.files.reader(found.practice_id, found.blob_key, found.key) as src:
        to.write_bytes(src.read())
    return hashlib.sha256(to.read_bytes()).hexdigest()


def ids_in_database(d: PracticeData) -> dict[str, set[str]]:
    with d.w.sessions() as session:
        return {
            table: set(session.scalars(select(model.id).where(model.practice_id == d.w.riverside)))
            for table, model in MODELS.items()
        }


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- termination ends access -------------------------------------------------------------------


def test_termination_ends_the_billers_access_at_once(practice_data: PracticeData) -> None:
    d = practice_data
    w = d.w
    with w.sessions() as session:
        patient = session.scalars(
            select(Patient.id).where(Patient.practice_id == w.riverside)
        ).first()
    assert patient is not None
    seen = unit_of_work(
        w.sessions,
        lambda session: Gateway(session, w.keyring, d.biller(), now=w.clock.now()).get_patient(
            patient
        ),
    )
    assert seen["id"] == patient
    since = d.last_seq()

    view = end(d)

    assert view.state is TerminationState.PACKAGE_PENDING
    with pytest.raises(EngagementInactive) as refused:
        unit_of_work(
            w.sessions,
            lambda session: Gateway(session, w.keyring, d.biller(), now=w.clock.now()).get_patient(
                patient
            ),
        )
    assert refused.value.where == "terminated"
    with w.sessions() as session:
        assert engaged_practices(session, w.summit, now=w.clock.now()) == set()
        engagement = session.get(Engagement, d.engagement)
        assert engagement is not None
        assert engagement.status == EngagementStatus.TERMINATED.value
        assert engagement.active_until is None and engagement.terminated_at == w.clock.now()
        termination = session.get(Termination, d.engagement)
        assert termination is not None
        assert termination.shred_after == w.clock.now() + timedelta(days=30)
        kinds = set(
            session.scalars(
                select(EngagementNotice.kind).where(EngagementNotice.engagement_id == d.engagement)
            )
        )
    assert "terminated" in kinds
    with pytest.raises(AuditedDenial) as not_sent, w.sessions.begin() as session:
        outbound_837p(
            session, w.keyring, w.files, d.biller(), practice_id=w.riverside, now=w.clock.now()
        )
    assert isinstance(not_sent.value.public, EngagementInactive)
    [event] = d.events("vendors:engagement:terminated", since=since)
    assert (event.outcome, event.resource_id, event.tenant_id) == (
        "success",
        d.engagement,
        w.riverside,
    )
    assert event.actor_user_id == d.admin.user_id
    assert d.events("phi:patient:read", since=since)[-1].outcome == "denied"


def test_break_glass_grants_of_the_billing_company_die_with_the_engagement(
    practice_data: PracticeData,
) -> None:
    d = practice_data
    w = d.w
    biller = d.biller()
    now = w.clock.now()
    with w.sessions.begin() as session:
        grant = BreakGlassGrant(
            user_id=biller.user_id or "",
            tenant_id=w.riverside,
            reason="A claim must go out today and the gate is shut.",
            granted_at=now,
            expires_at=now + timedelta(hours=1),
        )
        session.add(grant)
        session.flush()
        grant_id = grant.id
    since = d.last_seq()

    end(d)

    with w.sessions() as session:
        stored = session.get(BreakGlassGrant, grant_id)
        assert stored is not None and stored.expires_at == now
        patient = session.scalars(
            select(Patient.id).where(Patient.practice_id == w.riverside)
        ).first()
    with pytest.raises(EngagementInactive):
        unit_of_work(
            w.sessions,
            lambda session: Gateway(session, w.keyring, biller, now=now).get_patient(patient or ""),
        )
    [revoked] = d.events("access:break-glass:revoked", since=since)
    assert (revoked.resource_id, revoked.tenant_id) == (grant_id, w.riverside)


def test_terminating_twice_is_a_conflict(practice_data: PracticeData) -> None:
    end(practice_data)

    with pytest.raises(Conflict):
        end(practice_data)


@pytest.mark.parametrize("role", [Role.VENDOR_ADMIN, Role.BILLER])
def test_a_billing_company_cannot_terminate(practice_data: PracticeData, role: Role) -> None:
    d = practice_data
    w = d.w
    since = d.last_seq()

    with pytest.raises(AccessDenied):
        unit_of_work(
            w.sessions,
            lambda session: terminate(
                session, w.principal(w.summit, role), d.engagement, reason="no", now=w.clock.now()
            ),
        )

    [denied] = d.events("vendors:engagement:terminated", since=since)
    assert denied.outcome == "denied"
    with w.sessions() as session:
        engagement = session.get(Engagement, d.engagement)
        assert engagement is not None and engagement.status == EngagementStatus.ACTIVE.value


def test_another_practice_cannot_terminate_or_see_the_engagement(
    practice_data: PracticeData,
) -> None:
    d = practice_data
    w = d.w
    lakeside = w.principal(w.lakeside, Role.PRACTICE_ADMIN)
    since = d.last_seq()

    with pytest.raises(NotFound):
        unit_of_work(
            w.sessions,
            lambda session: terminate(
                session, lakeside, d.engagement, reason="not ours", now=w.clock.now()
            ),
        )
    end(d)
    for attempt in (
        lambda session: termination_status(session, lakeside, d.engagement, now=w.clock.now()),
        lambda session: confirm_receipt(session, lakeside, d.engagement, now=w.clock.now()),
        lambda session: open_return_package(
            session, d.parts, lakeside, d.engagement, now=w.clock.now()
        ),
    ):
        with pytest.raises(NotFound):
            unit_of_work(w.sessions, attempt)

    denied = d.events("vendors:engagement:terminated", since=since)
    assert [e.outcome for e in denied] == ["denied", "success"]
    assert denied[0].actor_org_id == w.lakeside


def test_the_reason_and_the_period_are_checked(practice_data: PracticeData) -> None:
    with pytest.raises(ValidationFailed):
        unit_of_work(
            practice_data.w.sessions,
            lambda session: terminate(
                session,
                practice_data.admin,
                practice_data.engagement,
                reason="  ",
                now=practice_data.w.clock.now(),
            ),
        )
    with pytest.raises(ValidationFailed):
        end(practice_data, shred_after=timedelta(hours=1))


# -- the return package ----------------------------------------------------------------------


def test_the_return_package_holds_every_record_and_file_of_the_practice(
    practice_data: PracticeData, tmp_path: Path
) -> None:
    d = practice_data
    w = d.w
    end(d)
    since = d.last_seq()
    steps: list[tuple[int, int]] = []

    view = export(d, progress=lambda done, total: steps.append((done, total)), chunk=2)

    assert view.state is TerminationState.AWAITING_RECEIPT
    assert view.package_sha256 is not None
    assert steps and steps[-1][0] == steps[-1][1] > 0
    assert [done for done, _ in steps] == sorted(done for done, _ in steps)
    package = tmp_path / "package.cbpw"
    assert download(d, package) == view.package_sha256
    assert package.stat().st_size == view.package_size
    assert PASSPHRASE.encode() not in package.read_bytes()

    with package.open("rb") as src:
        unpacked = unpack(src, PASSPHRASE, tmp_path / "out")

    out = unpacked.out
    expected = ids_in_database(d)
    for table in TABLES:
        rows = jsonl(out / "records" / f"{table}.jsonl")
        assert {row["id"] for row in rows} == expected[table], table
        assert unpacked.records[table] == len(expected[table]) > 0, table
    manifest = unpacked.manifest
    assert manifest["engagement"]["id"] == d.engagement
    assert manifest["practice"]["id"] == w.riverside
    assert manifest["billing_company"]["id"] == w.summit
    assert len(manifest["assessments"]) == 1 and len(manifest["baas"]) == 1
    baa = f"baa-{manifest['baas'][0]['id']}"
    # The fixture's BAA row names no stored document: the manifest says so.
    assert manifest["missing"] == [
        {"path": f"documents/{baa}.pdf", "of": baa, "reason": "validation_failed"}
    ]
    batches = {row["id"]: row for row in jsonl(out / "records" / "batches.jsonl")}
    assert {b["direction"] for b in batches.values()} == {"inbound", "outbound"}
    for batch_id, original in d.originals.items():
        assert (out / batches[batch_id]["file"]).read_bytes() == original
    with w.sessions() as session:
        for batch in batches.values():
            content = (out / batch["file"]).read_bytes()
            assert hashlib.sha256(content).hexdigest() == batch["content_sha256"]
            stored = io.BytesIO()
            w.files.read_into(session, w.riverside, _blob_key(session, batch["id"]), stored)
            assert stored.getvalue() == content
    patients = jsonl(out / "records" / "patients.jsonl")
    assert {"Alma", "Bea"} <= {p["given_name"] for p in patients}
    findings = jsonl(out / "records" / "findings.jsonl")
    assert "Filed late with the payer's written waiver." in {f["reason"] for f in findings}
    claims = jsonl(out / "records" / "claims.jsonl")
    assert {"C1", "C2", "C3"} <= {c["patient_account"] for c in claims}  # CLM01
    assert [e.outcome for e in d.events("vendors:package:exported", since=since)] == ["success"]
    assert [e.outcome for e in d.events("vendors:package:downloaded", since=since)] == ["success"]


def _blob_key(session: Any, batch_id: str) -> str:
    batch = session.get(Batch, batch_id)
    assert batch is not None and batch.blob_key is not None
    return str(batch.blob_key)


def test_the_package_does_not_open_with_a_wrong_passphrase(
    practice_data: PracticeData, tmp_path: Path
) -> None:
    d = practice_data
    end(d)
    export(d)
    package = tmp_path / "package.cbpw"
    download(d, package)
    out = tmp_path / "out"

    with package.open("rb") as src, pytest.raises(PackageUnreadable):
        unpack(src, "not the passphrase at all", out)

    assert list(out.iterdir()) == []


def test_one_package_per_termination_and_only_after_it(practice_data: PracticeData) -> None:
    d = practice_data
    with pytest.raises(Conflict):
        export(d)  # not terminated yet
    end(d)
    export(d)
    before = d.blob_files()

    with pytest.raises(Conflict):
        export(d)

    assert d.blob_files() == before  # nothing left behind by the refused one


def test_the_billing_company_cannot_take_the_package(practice_data: PracticeData) -> None:
    d = practice_data
    w = d.w
    end(d)
    export(d)
    since = d.last_seq()
    vendor_admin = w.principal(w.summit, Role.VENDOR_ADMIN)

    with pytest.raises(AccessDenied):
        unit_of_work(
            w.sessions,
            lambda session: open_return_package(
                session, d.parts, vendor_admin, d.engagement, now=w.clock.now()
            ),
        )

    assert [e.outcome for e in d.events("vendors:package:downloaded", since=since)] == ["denied"]
    # The billing company may read where the termination stands, though.
    shown = unit_of_work(
        w.sessions,
        lambda session: termination_status(session, vendor_admin, d.engagement, now=w.clock.now()),
    )
    assert shown.state is TerminationState.AWAITING_RECEIPT


# -- shredding ---------------------------------------------------------------------------------


def sealed_values(d: PracticeData) -> list[tuple[str, str, str, bytes]]:
    """Every sealed value of the practice: (table, column, row id, ciphertext)."""
    columns = {
        Patient: ("given_name", "family_name", "birth_date", "mrn", "ssn", "address"),
        Coverage: ("member_id", "group_number"),
        Encounter: ("documentation",),
        Claim: ("patient_account",),
        FindingRow: ("reason",),
    }
    found = []
    with d.w.sessions() as session:
        for model, names in columns.items():
            for row in session.scalars(select(model).where(model.practice_id == d.w.riverside)):
                for name in names:
                    value = getattr(row, name)
                    if value is not None:
                        found.append((model.__tablename__, name, row.id, value))
    return found


def test_confirming_receipt_shreds_and_nothing_decrypts_on_the_server(
    practice_data: PracticeData, tmp_path: Path
) -> None:
    d = practice_data
    w = d.w
    end(d)
    export(d)
    sealed = sealed_values(d)
    assert {table for table, *_ in sealed} >= {"patients", "coverages", "claims", "findings"}
    with w.sessions() as session:
        batches = {
            row.id: row.blob_key
            for row in session.scalars(select(Batch).where(Batch.practice_id == w.riverside))
        }
    copies = tmp_path / "copies"
    shutil.copytree(w.blobs, copies)  # a backup taken before: it must be worthless after
    since = d.last_seq()

    view = confirm_and_shred(w.sessions, d.parts, d.admin, d.engagement, now=w.clock.now())

    assert view.state is TerminationState.SHREDDED and view.certificate
    with w.sessions() as session:
        sealer = FieldSealer(w.keyring, session, w.riverside)
        for table, column, row_id, blob in sealed:
            with pytest.raises(DecryptionFailed):
                sealer.unseal(table, column, row_id, blob)
        with pytest.raises(DecryptionFailed):
            sealer.index("patients.mrn", "anything")
        backup = SealedFiles(BlobStore(copies), w.keyring)
        for blob_key in batches.values():
            assert blob_key is not None
            with pytest.raises(NotFound):
                w.files.store.open(blob_key)  # deleted from the blob store
            with pytest.raises(DecryptionFailed):
                backup.read_into(session, w.riverside, blob_key, io.BytesIO())
    staff = w.principal(w.riverside, Role.PRACTICE_STAFF)
    with pytest.raises(DecryptionFailed):
        unit_of_work(
            w.sessions,
            lambda session: Gateway(session, w.keyring, staff, now=w.clock.now()).list_patients(),
        )
    with pytest.raises(NotFound):
        download(d, tmp_path / "again.cbpw")
    for action in (
        "vendors:package:receipt-confirmed",
        "crypto:kek:shredded",
        "vendors:engagement:shredded",
    ):
        assert [e.outcome for e in d.events(action, since=since)] == ["success"], action
    with w.sessions() as session:
        kinds = set(
            session.scalars(
                select(EngagementNotice.kind).where(EngagementNotice.engagement_id == d.engagement)
            )
        )
    assert {"terminated", "shredded"} <= kinds


def test_without_a_receipt_the_shred_waits_for_the_period(practice_data: PracticeData) -> None:
    d = practice_data
    w = d.w
    end(d, shred_after=timedelta(days=10))
    with w.sessions() as session:
        assert d.engagement not in shred_due(session, w.clock.now())  # no package yet
    export(d)
    with w.sessions() as session:
        assert d.engagement not in shred_due(session, w.clock.now())
    with pytest.raises(Conflict):
        shred(w.sessions, d.parts, d.engagement, now=w.clock.now())

    w.clock.advance(timedelta(days=10))
    with w.sessions() as session:
        assert d.engagement in shred_due(session, w.clock.now())
    # The server's watcher, not a person, shreds once the period is over.
    watcher = Watcher(w.sessions, Settings(), clock=w.clock, offboarding=d.parts)
    assert watcher.run_once().shredded == (d.engagement,)

    with w.sessions() as session:
        view = termination_status(session, d.admin, d.engagement, now=w.clock.now())
        assert d.engagement not in shred_due(session, w.clock.now())
    assert view.state is TerminationState.SHREDDED
    assert watcher.run_once().shredded == ()
    [event] = d.events("vendors:engagement:shredded")[-1:]
    assert event.resource_id == d.engagement and event.auth_method == "local-data-dir"


def test_a_live_engagement_with_another_company_holds_the_shred(
    practice_data: PracticeData,
) -> None:
    d = practice_data
    w = d.w
    other = w.open_engagement(w.riverside, w.northwind)
    end(d)
    export(d)

    held = confirm_and_shred(w.sessions, d.parts, d.admin, d.engagement, now=w.clock.now())

    assert held.state is TerminationState.SHRED_HELD
    assert held.held_by == (other,)
    assert "still needs" in held.explanation and "active" in held.explanation
    with w.sessions() as session:
        assert not {d.engagement, other} & set(shred_due(session, w.clock.now()))
        counts = PracticeRecords(session, w.keyring, w.files, w.riverside).counts()
        next(PracticeRecords(session, w.keyring, w.files, w.riverside).rows("patients"))
    with pytest.raises(Conflict):
        shred(w.sessions, d.parts, d.engagement, now=w.clock.now(), principal=d.admin)

    end(d, other)
    export(d, other)
    last = confirm_and_shred(w.sessions, d.parts, d.admin, other, now=w.clock.now())

    assert last.state is TerminationState.SHREDDED
    with w.sessions() as session:
        for engagement_id in (d.engagement, other):
            termination = session.get(Termination, engagement_id)
            assert termination is not None and termination.certificate is not None
            assert termination.shredded_at == w.clock.now()
        assert PracticeRecords(session, w.keyring, w.files, w.riverside).counts() == counts


def test_an_engagement_that_never_handled_phi_ends_without_destroying_anything(
    practice_data: PracticeData,
) -> None:
    d = practice_data
    w = d.w
    with w.sessions.begin() as session:
        invited = Engagement(
            practice_id=w.riverside,
            billing_company_id=w.northwind,
            status=EngagementStatus.INVITED.value,
            created_at=w.clock.now() - timedelta(days=1),
        )
        session.add(invited)
        session.flush()
        invited_id = invited.id

    view = end(d, invited_id)

    assert view.state is TerminationState.CLOSED
    with pytest.raises(Conflict):
        export(d, invited_id)
    with pytest.raises(Conflict):
        shred(w.sessions, d.parts, invited_id, now=w.clock.now() + timedelta(days=90))
    with w.sessions() as session:
        assert next(PracticeRecords(session, w.keyring, w.files, w.riverside).rows("patients"))
