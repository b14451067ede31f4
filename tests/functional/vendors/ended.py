"""A practice with real data and an engagement about to end, on SQLite and PostgreSQL.

``build`` makes it on ``vendor_world``: Riverside engaged with Summit
(BAA signed, assessment approved) sends a conformance 837P (the server
answers with a 999) and a CSV charge file through the exchange, a Summit
biller sends the ready claims out in an 837P, Riverside's staff attest an
encounter, and Riverside's admin
overrides one finding with a reason. So the practice has patients,
coverages, claims, service lines, findings and decisions, inbound and
outbound batch files: everything a return package carries and a shred
must destroy.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from claimbridge.access.principal import Principal
from claimbridge.audit.record import LOCAL_OPERATOR
from claimbridge.billing.outbound import outbound_837p
from claimbridge.crypto.passphrase import MIN_SCRYPT_N
from claimbridge.crypto.signing import SigningKey
from claimbridge.exchange.batches import BatchService
from claimbridge.exchange.manifest import make_manifest
from claimbridge.exchange.orgkeys import register_key
from claimbridge.formats.csv.encounters import AttestedEncounter
from claimbridge.integrity.findings import FindingAccess
from claimbridge.phi.attestations import attest_encounters
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.batches import Batch
from claimbridge.storage.integrity import FindingRow
from claimbridge.storage.orgs import Organisation, Role
from claimbridge.vendors.offboarding import Offboarding
from tests.functional.exchange.samples import conformance_837p
from tests.functional.exchange.test_integrity import BILLING_NPI, RENDERING_NPI, charges
from tests.functional.vendors.conftest import VendorWorld

PASSPHRASE = "a long passphrase the practice keeps"
FAST = MIN_SCRYPT_N
"""The scrypt cost the tests seal packages with (the default takes half a second)."""


@dataclass
class PracticeData:
    w: VendorWorld
    service: BatchService
    server_key: SigningKey
    parts: Offboarding
    engagement: str
    originals: dict[str, bytes]
    """Inbound batch id → the bytes the practice sent."""

    @property
    def admin(self) -> Principal:
        return self.w.principal(self.w.riverside, Role.PRACTICE_ADMIN)

    def biller(self) -> Principal:
        return self.w.principal(self.w.summit, Role.BILLER)

    def events(self, action: str, *, since: int = 0) -> list[AuditEvent]:
        with self.w.sessions() as session:
            return list(
                session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.action == action, AuditEvent.seq > since)
                    .order_by(AuditEvent.seq)
                )
            )

    def last_seq(self) -> int:
        with self.w.sessions() as session:
            return int(session.scalar(select(func.max(AuditEvent.seq))) or 0)

    def blob_files(self) -> set[Path]:
        return {p for p in self.w.blobs.rglob("*") if p.is_file()}


def send(data: PracticeData, content: bytes, format: str, key: SigningKey) -> Any:  # noqa: A002
    w = data.w
    _, signed = make_manifest(
        io.BytesIO(content),
        format=format,
        sender=w.riverside,
        recipient=w.summit,
        key=key,
        now=w.clock.now(),
    )
    staff = w.principal(w.riverside, Role.PRACTICE_STAFF)
    delivery = data.service.receive(staff, signed.dumps(), io.BytesIO(content))
    assert delivery.receipt.document["status"] == "accepted", delivery.receipt.document
    batch_id = str(delivery.receipt.document["batch_id"])
    data.originals[batch_id] = content
    return delivery


def build(vendor_world: VendorWorld) -> PracticeData:
    """The practice's data; each test module wraps this in its own ``practice_data`` fixture."""
    w = vendor_world
    server_key = SigningKey.generate()
    practice_key = SigningKey.generate()
    with w.sessions.begin() as session:
        register_key(
            session, w.riverside, practice_key.public_key_bytes(), now=w.clock.now(),
            actor=LOCAL_OPERATOR,
        )  # fmt: skip
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
    engagement = w.open_engagement(w.riverside, w.summit)
    service = BatchService(
        sessions=w.sessions,
        keyring=w.keyring,
        files=w.files,
        server_key=server_key,
        clock=w.clock,
        max_bytes=4 * 1024 * 1024,
    )
    data = PracticeData(
        w=w,
        service=service,
        server_key=server_key,
        parts=Offboarding(keyring=w.keyring, files=w.files, server_key=server_key),
        engagement=engagement,
        originals={},
    )
    send(data, conformance_837p(), "x12-837p", practice_key)
    served = w.clock.now().date() - timedelta(days=3)
    with w.sessions.begin() as session:
        attest_encounters(
            session,
            w.keyring,
            w.principal(w.riverside, Role.PRACTICE_STAFF),
            [
                AttestedEncounter(
                    mrn=None,
                    family_name="Example",
                    given_name="Alma",
                    birth_date=date(1958, 3, 14),
                    rendering_npi=RENDERING_NPI,
                    date_of_service=served,
                    place_of_service="11",
                )
            ],
            practice_id=w.riverside,
            now=w.clock.now(),
        )
    send(
        data,
        charges(
            {"claim_id": "C1", "procedure_code": "99213", "service_date": served.isoformat()},
            {
                "claim_id": "C2",
                "procedure_code": "99212",
                "patient_account": "ACC-2",
                "patient_last_name": "Sample",
                "patient_first_name": "Bea",
                "patient_birth_date": "1961-07-02",
                "member_id": "XEX900800701",
                "service_date": served.isoformat(),
            },
            # Billed long after the service: the timely-filing rule finds it.
            {
                "claim_id": "C3",
                "procedure_code": "99214",
                "patient_account": "ACC-3",
                "service_date": (date(2024, 1, 10)).isoformat(),
            },
        ),
        "csv",
        practice_key,
    )
    with w.sessions.begin() as session:
        outbound_837p(
            session, w.keyring, w.files, data.biller(), practice_id=w.riverside,
            now=w.clock.now(),
        )  # fmt: skip
    with w.sessions.begin() as session:
        finding = session.scalars(
            select(FindingRow.id)
            .where(FindingRow.practice_id == w.riverside)
            .order_by(FindingRow.created_at, FindingRow.seq)
        ).first()
        if finding is not None:
            FindingAccess(session, data.admin, w.keyring, now=w.clock.now()).decide(
                finding, status="overridden", reason="Filed late with the payer's written waiver."
            )
    with w.sessions() as session:
        directions = set(
            session.scalars(select(Batch.direction).where(Batch.practice_id == w.riverside))
        )
    assert directions == {"inbound", "outbound"}
    return data
