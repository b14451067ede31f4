"""Receiving batches: receipts, duplicates, refusals, atomicity (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from claimbridge.crypto.errors import SignatureInvalid
from claimbridge.crypto.signing import SigningKey
from claimbridge.errors import NotFound, PayloadTooLarge
from claimbridge.exchange.errors import (
    ContentMismatch,
    FormatMismatch,
    ManifestInvalid,
    NoEngagement,
)
from claimbridge.exchange.receipts import read_receipt
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.batches import Batch
from claimbridge.storage.claims import Claim
from claimbridge.storage.clinical import Coverage, Patient
from tests.functional.exchange.conftest import MAX_BYTES, ExchangeWorld
from tests.functional.exchange.samples import conformance_837p, generated_837p, with_one_bad_set


def test_a_conformance_837p_is_ingested_and_its_receipt_verifies_offline(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    content = conformance_837p("demo.example1.837")

    delivery = w.send(content)

    assert not delivery.duplicate
    receipt = read_receipt(delivery.receipt.dumps())
    receipt.verify_with(w.server_key.public_key_bytes())
    document = receipt.document
    assert document["status"] == "accepted"
    assert document["claims"] == {"found": 1, "valid": 1, "rejected": 0, "stored": 1}
    assert document["sender"] == w.riverside
    assert document["recipient"] == w.summit
    assert document["acknowledgment_999"].startswith("ISA*")
    # Accepted, with a note: the file names the X222A2 errata of the guide.
    assert "AK9*E*1*1*1" in document["acknowledgment_999"]
    assert w.claims_of(w.riverside) == 1
    # The 999 is also an outbound batch in reply, stored encrypted for the practice.
    with w.sessions() as session:
        reply = session.get(Batch, document["acknowledgment_batch_id"])
        assert reply is not None
        assert (reply.direction, reply.format, reply.status) == ("outbound", "x12-999", "issued")
        assert reply.in_reply_to == document["batch_id"]
        out = io.BytesIO()
        w.service.files.read_into(session, w.riverside, reply.blob_key or "", out)
    assert out.getvalue().decode() == document["acknowledgment_999"]
    with w.sessions() as session:
        claim = session.scalars(select(Claim).where(Claim.practice_id == w.riverside)).one()
        assert claim.batch_id == document["batch_id"]
        assert [line.procedure_code for line in claim.lines]
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.resource_id == document["batch_id"])
        ).one()
        assert event.action == "phi:batch:ingest"
        assert event.tenant_id == w.riverside


def test_a_receipt_altered_after_signing_fails_verification(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    delivery = w.send(generated_837p(3, seed=11))
    tampered = delivery.receipt.to_json()
    tampered["document"]["claims"]["stored"] = 0
    with pytest.raises(SignatureInvalid):
        read_receipt(json.dumps(tampered)).verify_with(w.server_key.public_key_bytes())
    with pytest.raises(SignatureInvalid):
        read_receipt(delivery.receipt.dumps()).verify_with(SigningKey.generate().public_key_bytes())


def test_patients_are_matched_by_blind_index_not_duplicated(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    content = generated_837p(40, seed=5)
    first = w.send(content)
    patients = w.patients_of(w.riverside)
    assert first.receipt.document["claims"]["stored"] == 40
    assert 0 < patients <= 40

    # The same claims again under another interchange: new claims, the same patients.
    again = content.replace(b"*000000006*", b"*000000777*").replace(
        b"IEA*1*000000006", b"IEA*1*000000777"
    )
    second = w.send(again)

    assert not second.duplicate
    assert w.claims_of(w.riverside) == 80
    assert w.patients_of(w.riverside) == patients


def test_sending_the_same_content_again_returns_the_original_receipt(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    content = generated_837p(5, seed=21)
    first = w.send(content)
    blobs = w.blob_files()

    # A retry with the very same signed manifest, and a fresh manifest for the same bytes.
    manifest = json.dumps(json.loads(first_manifest := w.manifest(content)))
    retry = w.send(content, manifest=first_manifest)
    resend = w.send(content, manifest=manifest)

    for again in (retry, resend):
        assert again.duplicate
        assert again.receipt.document == first.receipt.document
        assert again.receipt.signature == first.receipt.signature
    assert w.claims_of(w.riverside) == 5
    assert w.batches_of(w.riverside) == 1
    assert w.blob_files() == blobs


def test_the_same_interchange_under_new_bytes_is_a_duplicate(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    content = generated_837p(4, seed=31)
    first = w.send(content)
    # Same ISA sender and control number, different line breaks: still the same interchange.
    reformatted = content.replace(b"~", b"~\n")

    again = w.send(reformatted)

    assert again.duplicate
    assert again.receipt.document["batch_id"] == first.receipt.document["batch_id"]
    assert w.claims_of(w.riverside) == 4


def test_a_byte_changed_after_signing_is_refused_and_nothing_is_kept(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    content = generated_837p(3, seed=41)
    manifest = w.manifest(content)
    tampered = bytearray(content)
    tampered[len(tampered) // 2] ^= 0x01

    with pytest.raises(ContentMismatch) as caught:
        w.send(bytes(tampered), manifest=manifest)

    assert caught.value.where == "content"
    assert w.batches_of(w.riverside) == 0
    assert w.blob_files() == []


def test_a_manifest_altered_after_signing_is_refused(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    content = generated_837p(3, seed=42)
    signed = json.loads(w.manifest(content))
    signed["document"]["recipient"] = w.northwind

    with pytest.raises(ManifestInvalid, match="altered after signing"):
        w.send(content, manifest=json.dumps(signed))
    assert w.batches_of(w.riverside) == 0


def test_a_batch_signed_with_another_organisations_key_is_refused(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    content = generated_837p(3, seed=43)

    with pytest.raises(ManifestInvalid, match="not registered to its sender") as caught:
        w.send(content, key=w.keys[w.lakeside])

    assert caught.value.where == "manifest.key_id"
    assert w.batches_of(w.riverside) == 0


def test_a_manifest_naming_another_sender_is_refused(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    content = generated_837p(3, seed=44)

    with pytest.raises(ManifestInvalid, match="another organisation"):
        w.send(content, sender=w.lakeside)
    assert w.batches_of(w.lakeside) == 0


def test_a_replayed_stale_manifest_is_refused(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    content = generated_837p(3, seed=45)
    old = w.manifest(content, at=w.clock.now() - timedelta(hours=25))

    with pytest.raises(ManifestInvalid, match="more than 24 hours old"):
        w.send(content, manifest=old)
    future = w.manifest(content, at=w.clock.now() + timedelta(hours=1))
    with pytest.raises(ManifestInvalid, match="future"):
        w.send(content, manifest=future)
    assert w.batches_of(w.riverside) == 0


def test_no_phi_goes_to_a_billing_company_without_an_engagement(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    with pytest.raises(NoEngagement) as caught:
        w.send(generated_837p(3, seed=46), recipient="northwind")
    assert caught.value.where == "manifest.recipient"
    assert w.batches_of(w.riverside) == 0
    assert w.blob_files() == []


def test_a_billing_company_cannot_send_a_practices_data_in(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    content = generated_837p(3, seed=47)
    with pytest.raises(ManifestInvalid):
        w.send(content, principal=w.biller())
    # Even naming the practice's id as its own organisation's, it is refused and audited.
    with pytest.raises(NotFound):
        w.send(content, principal=w.biller(), sender=w.summit, key=w.keys[w.riverside])
    with w.sessions() as session:
        denied = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "phi:batch:ingest", AuditEvent.outcome == "denied"
            )
        ).all()
    assert any(event.tenant_id == w.summit for event in denied)


def test_an_837_with_one_bad_set_is_rejected_whole_with_the_errors_location(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    content = with_one_bad_set(generated_837p(6, seed=51, per_set=2))

    delivery = w.send(content)

    document = delivery.receipt.document
    assert document["status"] == "rejected"
    assert document["claims"]["stored"] == 0
    assert w.claims_of(w.riverside) == 0
    assert any(
        "SE01" in error["message"] and "(SE)" in error["where"] for error in document["errors"]
    )
    assert "IK5*R" in document["acknowledgment_999"]
    # The rejected batch is kept, with its receipt, for both sides to see.
    with w.sessions() as session:
        batch = session.get(Batch, document["batch_id"])
        assert batch is not None
        assert batch.status == "rejected"
        assert json.loads(batch.receipt or "{}")["document"] == document
        assert session.scalars(
            select(AuditEvent.action).where(AuditEvent.resource_id == batch.id)
        ).all() == ["phi:batch:rejected"]


def test_a_claim_the_store_cannot_keep_rejects_the_batch_with_its_reason(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    text = generated_837p(3, seed=52).decode("ascii")
    # Drop every DMG (birth date): patients could not be matched.
    without = "~".join(s for s in text.split("~") if not s.startswith("DMG*")).encode()

    delivery = w.send(_recount(without))

    document = delivery.receipt.document
    assert document["status"] == "rejected"
    assert document["claims"]["rejected"] == 3
    assert document["errors"][0]["where"] == "claim 1 patient"
    assert "birth date" in document["errors"][0]["message"]
    assert w.patients_of(w.riverside) == 0


def test_an_oversized_upload_is_refused_while_streaming(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    content = generated_837p(6000, seed=53)
    assert len(content) > MAX_BYTES

    with pytest.raises(PayloadTooLarge):
        w.send(content)
    assert w.batches_of(w.riverside) == 0
    assert w.blob_files() == []


def test_content_that_is_not_the_declared_format_is_refused(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    cases = {
        "x12-837p": b'{"resourceType": "Bundle"}',
        "fhir-r4": generated_837p(2, seed=54),
        "csv": b"PK\x03\x04" + bytes(200),
    }
    for declared, content in cases.items():
        with pytest.raises(FormatMismatch):
            w.send(content, format=declared)
    assert w.batches_of(w.riverside) == 0
    assert w.blob_files() == []


def test_content_shorter_than_signed_is_refused(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    content = generated_837p(3, seed=55)
    manifest = w.manifest(content)
    with pytest.raises(ContentMismatch):
        w.service.receive(w.staff(w.riverside), manifest, io.BytesIO(content[:-10]))
    assert w.blob_files() == []


def test_ingested_phi_is_sealed_in_the_database(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    w.send(conformance_837p("demo.example1.837"))
    with w.sessions() as session:
        patient = session.scalars(select(Patient).where(Patient.practice_id == w.riverside)).one()
    raw = bytes(patient.family_name) + bytes(patient.given_name) + bytes(patient.birth_date)
    assert b"SMITH" not in raw.upper()
    assert b"1943" not in raw


def _recount(content: bytes) -> bytes:
    """SE01 recounted after segments were removed (envelopes stay valid)."""
    segments = content.decode("ascii").split("~")
    out, start = [], 0
    for index, segment in enumerate(segments):
        if segment.startswith("ST*"):
            start = index
        parts = segment.split("*")
        if parts[0] == "SE":
            parts[1] = str(index - start + 1)
        out.append("*".join(parts))
    return "~".join(out).encode("ascii")


def test_a_fourth_payer_is_kept_as_tertiary_or_later(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    # SBR01 "A" is the payer responsible fourth; the store counts primary to tertiary-or-later.
    content = generated_837p(2, seed=56).replace(b"SBR*P*", b"SBR*A*")
    assert b"SBR*A*" in content
    assert w.send(content).status == "accepted"
    with w.sessions() as session:
        priorities = set(
            session.scalars(
                select(Coverage.priority).where(Coverage.practice_id == w.riverside)
            ).all()
        )
    assert priorities == {3}
