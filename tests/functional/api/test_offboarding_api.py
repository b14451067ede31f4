"""Ending an engagement over HTTPS: the routes of ``/api/v1/engagements/{id}/termination``.

The demo world behind a real TLS server, on SQLite and PostgreSQL:
Riverside's admin terminates its engagement with Summit Billing; the
biller is refused on the next request; the package downloads and opens
with the passphrase; confirming receipt shreds the data once Riverside's
other engagement (Keystone, rejected) is ended too; the certificate
verifies against the key ``/api/v1/audit/public-key`` publishes. Others
are refused along the way, and every step is in the audit log.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from claimbridge.demo.accounts import KEYSTONE
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.db import make_engine, make_sessionmaker
from claimbridge.storage.orgs import Engagement
from claimbridge.vendors.destruction import verify_certificate
from claimbridge.vendors.returns import unpack
from tests.functional.api.worlds import RIVERSIDE, SUMMIT, World, running_world

ADMIN = "admin@riverside.example"
BILLER = "biller@summit-billing.example"
VENDOR_ADMIN = "admin@summit-billing.example"
LAKESIDE_ADMIN = "admin@lakeside.example"
PASSPHRASE = "riverside keeps this passphrase"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with running_world(request.param, request, tmp_path_factory, patients=4) as made:
        yield made


def bearer(world: World, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.sign_in(email)}"}


def engagement_of(world: World, company: str) -> str:
    with make_sessionmaker(world.engine)() as session:
        return str(
            session.scalars(
                select(Engagement.id).where(
                    Engagement.practice_id == world.orgs[RIVERSIDE],
                    Engagement.billing_company_id == world.orgs[company],
                )
            ).one()
        )


def actions_since(world: World, seq: int) -> list[tuple[str, str]]:
    engine = make_engine(world.url)
    try:
        with make_sessionmaker(engine)() as session:
            rows = session.execute(
                select(AuditEvent.action, AuditEvent.outcome)
                .where(AuditEvent.seq > seq)
                .order_by(AuditEvent.seq)
            ).all()
            return [(action, outcome) for action, outcome in rows]
    finally:
        engine.dispose()


def test_terminate_download_confirm_and_certify(world: World, tmp_path: Path) -> None:
    engagement = engagement_of(world, SUMMIT)
    keystone = engagement_of(world, KEYSTONE)
    base = f"/api/v1/engagements/{engagement}"
    admin = bearer(world, ADMIN)
    biller = bearer(world, BILLER)
    vendor = bearer(world, VENDOR_ADMIN)
    lakeside = bearer(world, LAKESIDE_ADMIN)
    patient = f"/api/v1/patients/{world.patient_of[RIVERSIDE]}"
    start = world.last_seq()
    body = {"reason": "Moving billing in-house.", "passphrase": PASSPHRASE}
    with world.client() as client:
        assert client.get(patient, headers=biller).status_code == 200
        assert client.post(f"{base}/termination", json=body, headers=vendor).status_code == 403
        assert client.post(f"{base}/termination", json=body, headers=lakeside).status_code == 404
        short = client.post(
            f"{base}/termination", json={**body, "passphrase": "short"}, headers=admin
        )
        assert short.status_code == 400 and short.json()["error"]["where"] == "passphrase"
        assert client.get(patient, headers=biller).status_code == 200  # still open

        ended = client.post(f"{base}/termination", json=body, headers=admin)

        assert ended.status_code == 201, ended.text
        assert ended.json()["state"] == "awaiting_receipt"
        refused = client.get(patient, headers=biller)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "engagement_inactive"
        assert refused.json()["error"]["where"] == "terminated"
        listed = client.get("/api/v1/patients", headers=biller)
        assert listed.status_code == 200 and listed.json()["items"] == []
        assert client.post(f"{base}/termination", json=body, headers=admin).status_code == 409
        shown = client.get(f"{base}/termination", headers=vendor)
        assert shown.status_code == 200 and shown.json()["state"] == "awaiting_receipt"
        assert client.get(f"{base}/termination", headers=lakeside).status_code == 404
        assert client.get(f"{base}/return-package", headers=vendor).status_code == 403
        assert client.get(f"{base}/certificate", headers=admin).status_code == 404

        package = client.get(f"{base}/return-package", headers=admin)

        assert package.status_code == 200
        digest = hashlib.sha256(package.content).hexdigest()
        assert digest == package.headers["x-content-sha256"] == ended.json()["package"]["sha256"]
        unpacked = unpack(io.BytesIO(package.content), PASSPHRASE, tmp_path / "returned")
        assert unpacked.manifest["engagement"]["id"] == engagement
        assert unpacked.records["patients"] > 0 and unpacked.records["claims"] > 0

        held = client.post(f"{base}/termination/receipt", headers=admin)

        # Keystone's engagement (assessment rejected) is still open: the shred waits.
        assert held.status_code == 200, held.text
        assert held.json()["state"] == "shred_held" and held.json()["held_by"] == [keystone]
        closed = client.post(
            f"/api/v1/engagements/{keystone}/termination", json=body, headers=admin
        )
        assert closed.status_code == 201 and closed.json()["state"] == "closed"
        confirmed = client.post(f"{base}/termination/receipt", headers=admin)
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["state"] == "shredded"
        assert client.get(f"{base}/return-package", headers=admin).status_code == 404
        certificate = client.get(f"{base}/certificate", headers=vendor)
        assert certificate.status_code == 200
        key = client.get("/api/v1/audit/public-key").json()["public_key"]
    document = verify_certificate(certificate.content, bytes.fromhex(key))
    assert document["engagement"]["id"] == engagement
    assert document["destroyed"]["records"]["patients"] == unpacked.records["patients"]
    events = actions_since(world, start)
    for action in (
        "vendors:engagement:terminated",
        "vendors:package:exported",
        "vendors:package:downloaded",
        "vendors:termination:read",
        "vendors:package:receipt-confirmed",
        "crypto:kek:shredded",
        "vendors:engagement:shredded",
        "vendors:certificate:read",
    ):
        assert (action, "success") in events, action
    assert ("vendors:engagement:terminated", "denied") in events
    assert ("vendors:package:downloaded", "denied") in events
