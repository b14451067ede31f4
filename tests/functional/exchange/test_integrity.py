"""Scrubbing on ingest: findings with the receipt, claims held, decisions, the encounter log.

Reference tables are loaded the way ``claimbridge integrity tables load``
loads them (CMS's and the OIG's layouts, written to files), on SQLite and
PostgreSQL. They are global, so each test removes its versions after it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from claimbridge.access.principal import Principal
from claimbridge.audit.record import LOCAL_OPERATOR, AuditedDenial
from claimbridge.errors import Conflict, NotFound, ValidationFailed
from claimbridge.formats.cms import MueEdit, PtpEdit, write_mue, write_ptp
from claimbridge.formats.csv.encounters import AttestedEncounter
from claimbridge.formats.csv.write import HEADER
from claimbridge.integrity.findings import FindingAccess
from claimbridge.integrity.references import load_reference
from claimbridge.phi.attestations import attest_encounters
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.claims import Claim
from claimbridge.storage.integrity import (
    ExclusionRow,
    FindingRow,
    MueEditRow,
    PtpEditRow,
    ReferenceTable,
    TableKind,
)
from claimbridge.storage.orgs import OrgKind, Role
from tests.functional.exchange.conftest import NOW, ExchangeWorld
from tests.unit.formats.x12.samples import CONFORMANCE

LEIE_1702 = CONFORMANCE / "cms" / "leie" / "1702EXCL.csv"
EXCLUDED_NPI = "1598959389"  # in 1702EXCL.csv, excluded from 2017-03-20
BILLING_NPI = "1234567893"
RENDERING_NPI = "1987654328"
SERVED = date(2026, 2, 23)


@pytest.fixture
def tables(exchange_world: ExchangeWorld, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """PTP (80053/82947 indicator 0, 99214/97110 indicator 1) and MUE tables, and the LEIE."""
    w = exchange_world
    ptp = tmp_path / "ccipra-v321r0-f1.TXT"
    with ptp.open("wb") as out:
        write_ptp(
            [
                PtpEdit("80053", "82947", True, date(1996, 1, 1), None, 0, "CPT Manual"),
                PtpEdit("99214", "97110", False, date(2020, 1, 1), None, 1, "Misuse"),
            ],
            out,
        )
    mue = tmp_path / "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv"
    with mue.open("wb") as out:
        write_mue([MueEdit("97110", 4, 3, "Clinical"), MueEdit("82947", 5, 2, "Policy")], out)
    loaded = {
        kind: load_reference(
            w.sessions, kind, path, effective_from=date(2026, 1, 1), now=NOW, actor=LOCAL_OPERATOR
        )[0]
        for kind, path in ((TableKind.PTP, ptp), (TableKind.MUE, mue), (TableKind.LEIE, LEIE_1702))
    }
    yield {"paths": {"ptp": ptp, "mue": mue}, "versions": loaded}
    with w.sessions.begin() as session:
        for model in (PtpEditRow, MueEditRow, ExclusionRow):
            session.execute(delete(model))
        session.execute(delete(ReferenceTable))


def charges(*lines: dict[str, str]) -> bytes:
    """A CSV charge file (the documented template) of ``lines``, each overriding defaults."""
    base = {
        "patient_account": "ACC-1",
        "patient_last_name": "Example",
        "patient_first_name": "Alma",
        "patient_birth_date": "1958-03-14",
        "patient_sex": "F",
        "patient_address": "100 Sample Street",
        "patient_city": "Springfield",
        "patient_state": "IL",
        "patient_postal_code": "62701",
        "member_id": "XEX100200301",
        "payer_name": "Example Health Plan",
        "payer_id": "EXHP1",
        "relationship": "self",
        "billing_npi": BILLING_NPI,
        "billing_name": "Example Family Practice",
        "billing_tax_id": "12-3456789",
        "rendering_npi": RENDERING_NPI,
        "place_of_service": "11",
        "diagnosis_1": "E11.9",
        "diagnosis_2": "I10",
        "service_date": SERVED.isoformat(),
        "units": "1",
        "charge": "50.00",
        "diagnosis_pointers": "1",
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(HEADER), extrasaction="raise")
    writer.writeheader()
    for line in lines:
        writer.writerow({**base, **line})
    return out.getvalue().encode()


def integrity_of(delivery: Any) -> dict[str, Any]:
    document = delivery.receipt.document
    assert document["status"] == "accepted", document["errors"]
    summary: dict[str, Any] = document["integrity"]
    return summary


def coder(w: ExchangeWorld) -> Principal:
    return Principal(
        user_id=None,
        organisation_id=w.summit,
        organisation_kind=OrgKind.BILLING_COMPANY,
        roles=frozenset({Role.CODER}),
        auth_method="api-token",
        mfa=True,
    )


def access(w: ExchangeWorld, principal: Principal, session: Any) -> FindingAccess:
    return FindingAccess(session, principal, w.service.keyring, now=w.clock.now())


def test_a_batch_is_scrubbed_on_ingest_and_its_receipt_carries_the_findings(
    exchange_world: ExchangeWorld, tables: dict[str, Any]
) -> None:
    w = exchange_world
    content = charges(
        {"claim_id": "C1", "procedure_code": "80053"},
        {"claim_id": "C1", "procedure_code": "82947"},
        {"claim_id": "C2", "procedure_code": "99213", "patient_account": "ACC-2"},
        {"claim_id": "C3", "procedure_code": "99212", "billing_npi": EXCLUDED_NPI},
    )

    summary = integrity_of(w.send(content, format="csv"))

    assert summary["claims_flagged"] == 2
    assert summary["claims_ready"] == 1
    assert summary["findings_by_rule"] == {"ncci-ptp": 1, "oig-leie": 1}
    assert summary["tables"]["ncci-ptp"] == "ccipra-v321r0-f1.TXT"
    assert summary["tables"]["oig-leie"] == "1702EXCL.csv"
    assert "encounter-not-attested" in summary["rules_not_run"]
    ptp = next(f for f in summary["findings"] if f["rule"] == "ncci-ptp")
    assert ptp["claim_index"] == 1
    assert ptp["line"] == 2
    assert ptp["codes"] == ["80053", "82947"]
    assert "1996-01-01" in ptp["message"]
    assert "modifier indicator 0" in ptp["message"]
    excluded = next(f for f in summary["findings"] if f["rule"] == "oig-leie")
    assert excluded["claim_index"] == 3
    assert EXCLUDED_NPI in excluded["message"]
    assert "2017-03-20" in excluded["message"]
    # No finding names the patient.
    assert "Example" not in str(summary) and "1958" not in str(summary)
    with w.sessions() as session:
        statuses = sorted(
            session.scalars(select(Claim.status).where(Claim.practice_id == w.riverside))
        )
    assert statuses == ["flagged", "flagged", "ready"]


def test_an_override_needs_the_role_a_reason_and_the_tenant_and_releases_the_claim(
    exchange_world: ExchangeWorld, tables: dict[str, Any]
) -> None:
    w = exchange_world
    w.send(
        charges(
            {"claim_id": "C1", "procedure_code": "80053"},
            {"claim_id": "C1", "procedure_code": "82947"},
        ),
        format="csv",
    )
    with w.sessions() as session:
        finding = session.scalars(
            select(FindingRow).where(FindingRow.practice_id == w.riverside)
        ).one()
    with w.sessions.begin() as session, pytest.raises(AuditedDenial):
        access(w, w.biller(), session).decide(
            finding.id, status="overridden", reason="distinct service, documented"
        )
    with w.sessions.begin() as session, pytest.raises(AuditedDenial) as hidden:
        access(w, w.staff(w.lakeside), session).get(finding.id)
    assert isinstance(hidden.value.public, NotFound)
    with w.sessions.begin() as session, pytest.raises(ValidationFailed):
        access(w, coder(w), session).decide(finding.id, status="overridden", reason="ok")

    with w.sessions.begin() as session:
        decided = access(w, coder(w), session).decide(
            finding.id, status="overridden", reason="Separate specimen drawn, documented"
        )
    assert decided["status"] == "overridden"
    with w.sessions.begin() as session, pytest.raises(Conflict):
        access(w, coder(w), session).decide(
            finding.id, status="resolved", reason="Corrected after review"
        )
    with w.sessions() as session:
        claim = session.get(Claim, finding.claim_id)
        assert claim is not None and claim.status == "ready"
        actions = session.scalars(
            select(AuditEvent.action + ":" + AuditEvent.outcome).where(
                AuditEvent.resource_id == finding.id
            )
        ).all()
    assert "integrity:finding:override:denied" in actions
    assert "integrity:finding:override:success" in actions
    with w.sessions.begin() as session:
        shown = access(w, w.staff(w.riverside), session).get(finding.id)
    assert shown["reason"] == "Separate specimen drawn, documented"
    with w.sessions() as session:  # the reason is sealed at rest
        stored = session.get(FindingRow, finding.id)
        assert stored is not None and b"specimen" not in (stored.reason or b"")


def test_the_same_service_in_a_later_batch_is_a_duplicate_of_the_first(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    first = charges({"claim_id": "C1", "procedure_code": "99213"})
    integrity_of(w.send(first, format="csv"))
    again = charges({"claim_id": "C9", "procedure_code": "99213", "charge": "51.00"})

    summary = integrity_of(w.send(again, format="csv"))

    assert summary["findings_by_rule"].get("duplicate") == 1
    finding = next(f for f in summary["findings"] if f["rule"] == "duplicate")
    assert finding["severity"] == "block"


def test_claims_are_held_against_the_encounters_the_practice_attested(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    visit = AttestedEncounter(
        mrn=None,
        family_name="Example",
        given_name="Alma",
        birth_date=date(1958, 3, 14),
        rendering_npi=RENDERING_NPI,
        date_of_service=SERVED,
        place_of_service="11",
    )
    with w.sessions.begin() as session, pytest.raises(AuditedDenial):
        attest_encounters(
            session, w.service.keyring, w.biller(), [visit], practice_id=w.riverside, now=NOW
        )
    with w.sessions.begin() as session:
        result = attest_encounters(
            session,
            w.service.keyring,
            w.staff(w.riverside),
            [visit, visit],
            practice_id=w.riverside,
            now=NOW,
        )
    assert (result.added, result.already_attested) == (1, 1)
    content = charges(
        {"claim_id": "C1", "procedure_code": "99213"},
        {
            "claim_id": "C2",
            "procedure_code": "99213",
            "service_date": (SERVED + timedelta(days=1)).isoformat(),
        },
        {
            "claim_id": "C3",
            "procedure_code": "99212",
            "service_date": (SERVED - timedelta(days=10)).isoformat(),
        },
    )

    summary = integrity_of(w.send(content, format="csv"))

    held = [f for f in summary["findings"] if f["rule"] == "encounter-not-attested"]
    assert [f["claim_index"] for f in held] == [2]
    assert RENDERING_NPI in held[0]["message"]


def test_a_table_version_takes_over_on_its_date_and_a_file_is_stored_once(
    exchange_world: ExchangeWorld, tables: dict[str, Any], tmp_path: Path
) -> None:
    w = exchange_world
    newer = tmp_path / "ccipra-v322r0-f1.TXT"
    with newer.open("wb") as out:
        write_ptp([PtpEdit("99213", "36415", False, date(2026, 1, 1), None, 0, "Misuse")], out)
    version, loaded = load_reference(
        w.sessions,
        TableKind.PTP,
        newer,
        effective_from=date(2026, 4, 1),
        now=NOW,
        actor=LOCAL_OPERATOR,
    )
    assert loaded and version.row_count == 1
    again, loaded_again = load_reference(
        w.sessions,
        TableKind.PTP,
        newer,
        effective_from=date(2026, 4, 1),
        now=NOW,
        actor=LOCAL_OPERATOR,
    )
    assert (again.id, loaded_again) == (version.id, False)
    pair = (
        {"claim_id": "C1", "procedure_code": "99213"},
        {
            "claim_id": "C1",
            "procedure_code": "36415",
        },
    )
    before = integrity_of(w.send(charges(*pair), format="csv"))
    assert before["tables"]["ncci-ptp"] == "ccipra-v321r0-f1.TXT"
    assert "ncci-ptp" not in before["findings_by_rule"]

    w.clock.advance(timedelta(days=31))
    moved = [dict(line, patient_account="ACC-7", claim_id="C7") for line in pair]
    after = integrity_of(w.send(charges(*moved), format="csv"))

    assert after["tables"]["ncci-ptp"] == "ccipra-v322r0-f1.TXT"
    assert after["findings_by_rule"].get("ncci-ptp") == 1


def test_a_bad_table_file_is_refused_with_its_row_and_leaves_no_version(
    exchange_world: ExchangeWorld, tables: dict[str, Any], tmp_path: Path
) -> None:
    w = exchange_world
    good = tables["paths"]["ptp"].read_text()
    broken = tmp_path / "broken.TXT"
    broken.write_text(good.replace("19960101", "19961341"))
    with pytest.raises(ValidationFailed) as refused:
        load_reference(
            w.sessions,
            TableKind.PTP,
            broken,
            effective_from=date(2026, 1, 1),
            now=NOW,
            actor=LOCAL_OPERATOR,
        )
    assert "row" in (refused.value.where or "")
    with w.sessions() as session:
        labels = session.scalars(select(ReferenceTable.label)).all()
    assert "broken.TXT" not in labels
