"""Recording a signed BAA: its terms checked, its document sealed under the practice's key,
the one before superseded, both parties able to read it, every step audited."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from claimbridge.audit.record import unit_of_work
from claimbridge.crypto.errors import DecryptionFailed
from claimbridge.errors import (
    AccessDenied,
    ClaimbridgeError,
    Conflict,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)
from claimbridge.storage.orgs import Engagement, EngagementStatus, Role
from claimbridge.vendors.agreements import current_baa, read_baa_document, record_baa
from tests.functional.vendors.conftest import VendorWorld
from tests.functional.vendors.gatekit import (
    PDF,
    admin,
    baas,
    engagement,
    engagement_without_baa,
    events,
    sign_baa,
    terms,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _blob_files(w: VendorWorld) -> set[Path]:
    return {p for p in w.blobs.rglob("*") if p.is_file()} if w.blobs.exists() else set()


def _read(w: VendorWorld, role: Role, org: str, engagement_id: str) -> dict[str, Any]:
    principal = w.principal(org, role)
    return unit_of_work(
        w.sessions,
        lambda session: current_baa(session, principal, engagement_id, now=w.clock.now()),
    )


def _download(w: VendorWorld, role: Role, org: str, engagement_id: str, **kw: Any) -> bytes:
    principal = w.principal(org, role)

    def work(session: Session) -> bytes:
        found = read_baa_document(
            session, w.files, principal, engagement_id, now=w.clock.now(), **kw
        )
        return found.content

    return unit_of_work(w.sessions, work)


def test_a_recorded_baa_is_sealed_under_the_practice_key_and_opens_the_gate(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    engaged = engagement_without_baa(w, w.riverside, w.summit)
    before = _blob_files(w)
    recorded = sign_baa(w, engaged, document=PDF)

    (row,) = baas(w, engaged)
    assert (row.version, row.breach_notice_days, row.on_termination) == (
        "2026-2",
        30,
        "return_or_destroy",
    )
    assert (row.media_type, row.size, row.superseded_at) == ("application/pdf", len(PDF), None)
    assert row.sha256 == recorded["sha256"]
    assert row.recorded_by == w.users[(w.riverside, Role.PRACTICE_ADMIN)]
    (blob,) = _blob_files(w) - before
    assert b"signed business associate agreement" not in blob.read_bytes()
    out = io.BytesIO()
    with w.sessions() as session:
        w.files.read_into(session, w.riverside, row.blob_key, out)
        assert out.getvalue() == PDF
        with pytest.raises(DecryptionFailed):  # not under the billing company's key
            w.files.read_into(session, w.summit, row.blob_key, io.BytesIO())
    (signed,) = events(w, "vendors:baa:signed", resource_id=row.id)
    assert (signed.outcome, signed.tenant_id, signed.actor_org_id) == (
        "success",
        w.riverside,
        w.riverside,
    )
    opened = engagement(w, engaged)
    assert opened.status == EngagementStatus.ACTIVE.value
    assert opened.baa_signed_at == w.clock.now()
    assert events(w, "vendors:engagement:activated", resource_id=engaged)


def test_a_new_baa_supersedes_the_one_in_force(vendor_world: VendorWorld) -> None:
    w = vendor_world
    engaged = engagement_without_baa(w, w.riverside, w.summit)
    first = sign_baa(w, engaged, version="2026-1")
    w.clock.advance(timedelta(days=30))
    second = sign_baa(
        w, engaged, version="2026-2", breach_notice_days=10, document=PNG, media_type=None
    )

    shown = _read(w, Role.PRACTICE_ADMIN, w.riverside, engaged)
    assert shown["current"]["id"] == second["id"]
    assert shown["current"]["terms"]["breach_notice_days"] == 10
    assert shown["current"]["document"]["media_type"] == "image/png"
    assert [old["id"] for old in shown["superseded"]] == [first["id"]]
    assert shown["superseded"][0]["superseded_at"] == w.clock.now().isoformat()
    assert _download(w, Role.PRACTICE_ADMIN, w.riverside, engaged) == PNG
    assert _download(w, Role.PRACTICE_ADMIN, w.riverside, engaged, baa_id=first["id"]) == PDF


@pytest.mark.parametrize(
    ("role", "side"),
    [
        (Role.PRACTICE_ADMIN, "riverside"),
        (Role.PRIVACY_OFFICER, "riverside"),
        (Role.VENDOR_ADMIN, "summit"),
    ],
)
def test_both_parties_read_the_terms_and_download_the_document_audited(
    vendor_world: VendorWorld, role: Role, side: str
) -> None:
    w = vendor_world
    org = getattr(w, side)
    engaged = engagement_without_baa(w, w.riverside, w.summit)
    recorded = sign_baa(w, engaged)
    shown = _read(w, role, org, engaged)
    assert shown["current"]["practice_signatory"] == "Dana Whitfield, Practice Administrator"
    assert shown["current"]["terms"] == {
        "breach_notice_days": 30,
        "subcontractor_flow_down": True,
        "on_termination": "return_or_destroy",
    }
    assert _download(w, role, org, engaged) == PDF
    (downloaded,) = events(w, "vendors:baa:downloaded", resource_id=recorded["id"])
    assert (downloaded.actor_org_id, downloaded.tenant_id, downloaded.outcome) == (
        org,
        w.riverside,
        "success",
    )


def test_a_biller_may_not_read_the_baa_and_the_refusal_is_audited(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    engaged = engagement_without_baa(w, w.riverside, w.summit)
    sign_baa(w, engaged)
    with pytest.raises(AccessDenied):
        _read(w, Role.BILLER, w.summit, engaged)
    with pytest.raises(AccessDenied):
        _download(w, Role.BILLER, w.summit, engaged)
    refused = [
        e
        for e in events(w, "vendors:baa:downloaded")
        if e.actor_user_id == w.users[(w.summit, Role.BILLER)]
    ]
    assert [e.outcome for e in refused] == ["denied"]


@pytest.mark.parametrize(
    ("role", "side"),
    [(Role.PRACTICE_ADMIN, "lakeside"), (Role.VENDOR_ADMIN, "northwind")],
)
def test_other_organisations_are_told_not_found(
    vendor_world: VendorWorld, role: Role, side: str
) -> None:
    w = vendor_world
    engaged = engagement_without_baa(w, w.riverside, w.summit)
    sign_baa(w, engaged)
    org = getattr(w, side)
    with pytest.raises(NotFound):
        _read(w, role, org, engaged)
    with pytest.raises(NotFound):
        _download(w, role, org, engaged)
    if role is Role.PRACTICE_ADMIN:
        with pytest.raises(NotFound):
            sign_baa(w, engaged, by=w.principal(org, role))
    assert len(baas(w, engaged)) == 1


def test_the_billing_company_does_not_record_the_practice_s_baa(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    engaged = engagement_without_baa(w, w.riverside, w.summit)
    with pytest.raises(AccessDenied):
        sign_baa(w, engaged, by=w.principal(w.summit, Role.VENDOR_ADMIN))
    assert baas(w, engaged) == []
    vendor_admin = w.users[(w.summit, Role.VENDOR_ADMIN)]
    refused = [e for e in events(w, "vendors:baa:signed") if e.actor_user_id == vendor_admin]
    assert [e.outcome for e in refused] == ["denied"]


def _refusal(w: VendorWorld, engaged: str, **changes: Any) -> ClaimbridgeError:
    before = _blob_files(w)
    with pytest.raises(ClaimbridgeError) as caught:
        sign_baa(w, engaged, **changes)
    assert baas(w, engaged) == [], "nothing recorded"
    assert _blob_files(w) == before, "no blob left behind"
    assert engagement(w, engaged).status == EngagementStatus.ASSESSING.value
    return caught.value


@pytest.mark.parametrize(
    ("changes", "where", "says"),
    [
        ({"effective_on_days": -1}, "effective_on", "before it was signed"),
        ({"expires_on_days": 0}, "expires_on", "after it takes effect"),
        ({"signed_on_days": 1, "effective_on_days": 1}, "signed_on", "in the future"),
        ({"practice_signatory": "   "}, "practice_signatory", "missing"),
        ({"vendor_signatory": ""}, "vendor_signatory", "missing"),
        ({"version": ""}, "version", "missing"),
        ({"breach_notice_days": 0}, "breach_notice_days", "1 to 60"),
        ({"breach_notice_days": 61}, "breach_notice_days", "at most 60"),
        ({"on_termination": "keep"}, "on_termination", "return"),
    ],
)
def test_wrong_terms_are_refused_with_the_field_named(
    vendor_world: VendorWorld, changes: dict[str, Any], where: str, says: str
) -> None:
    w = vendor_world
    today = w.clock.now().date()
    engaged = engagement_without_baa(w, w.riverside, w.summit)
    given = dict(changes)
    for field in ("signed_on", "effective_on", "expires_on"):
        if f"{field}_days" in given:
            given[field] = today + timedelta(days=given.pop(f"{field}_days"))
    error = _refusal(w, engaged, **given)
    assert isinstance(error, ValidationFailed)
    assert error.where == where
    assert says in error.message


def test_an_already_expired_baa_is_refused(vendor_world: VendorWorld) -> None:
    w = vendor_world
    today = w.clock.now().date()
    engaged = engagement_without_baa(w, w.riverside, w.summit)
    error = _refusal(
        w,
        engaged,
        signed_on=today - timedelta(days=400),
        effective_on=today - timedelta(days=400),
        expires_on=today - timedelta(days=1),
    )
    assert (error.where, type(error)) == ("expires_on", ValidationFailed)


@pytest.mark.parametrize(
    ("document", "declared", "where"),
    [
        (b"<html><script>alert(1)</script></html>", "text/html", "document"),
        (b"plain words, not a signed contract", None, "document"),
        (b"", "application/pdf", "document"),
        (PNG, "application/pdf", "media_type"),
    ],
)
def test_a_document_that_is_not_a_pdf_or_scan_is_refused(
    vendor_world: VendorWorld, document: bytes, declared: str | None, where: str
) -> None:
    w = vendor_world
    engaged = engagement_without_baa(w, w.riverside, w.summit)
    error = _refusal(w, engaged, document=document, media_type=declared)
    assert (type(error), error.where) == (ValidationFailed, where)


def test_a_document_over_the_limit_is_refused_and_not_kept(vendor_world: VendorWorld) -> None:
    w = vendor_world
    engaged = engagement_without_baa(w, w.riverside, w.summit)
    before = _blob_files(w)

    def work(session: Session) -> None:
        record_baa(
            session,
            w.files,
            admin(w, w.riverside),
            engaged,
            terms=terms(w),
            document=io.BytesIO(PDF + b"\x00" * 4096),
            now=w.clock.now(),
            max_bytes=2048,
        )

    with pytest.raises(PayloadTooLarge):
        unit_of_work(w.sessions, work)
    assert _blob_files(w) == before
    assert baas(w, engaged) == []


def test_a_terminated_engagement_takes_no_baa(vendor_world: VendorWorld) -> None:
    w = vendor_world
    engaged = w.open_engagement(w.riverside, w.summit)
    with w.sessions.begin() as session:
        row = session.get(Engagement, engaged)
        assert row is not None
        row.status = EngagementStatus.TERMINATED.value
        row.terminated_at = w.clock.now()
    with pytest.raises(Conflict) as caught:
        sign_baa(w, engaged)
    assert caught.value.where == "engagement.status"
    assert len(baas(w, engaged)) == 1  # the fixture's, untouched


def test_two_recordings_at_once_leave_one_baa_in_force(vendor_world: VendorWorld) -> None:
    w = vendor_world
    engaged = engagement_without_baa(w, w.riverside, w.summit)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def record(version: str) -> None:
        try:
            start.wait()
            sign_baa(w, engaged, version=version)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=record, args=(v,)) for v in ("2026-a", "2026-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    rows = baas(w, engaged)
    assert sorted(r.version for r in rows) == ["2026-a", "2026-b"]
    assert len([r for r in rows if r.superseded_at is None]) == 1
