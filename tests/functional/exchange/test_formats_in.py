"""CSV charge files and FHIR R4 Bundles come in like an 837P, or are refused whole."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from claimbridge.storage.claims import Claim
from tests.functional.exchange.conftest import ExchangeWorld
from tests.functional.exchange.samples import LFH_837I, example_bundle, example_csv


def test_the_documented_csv_example_is_ingested(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    delivery = w.send(example_csv(), format="csv")
    document = delivery.receipt.document
    assert document["status"] == "accepted", document["errors"]
    assert document["claims"] == {"found": 5, "valid": 5, "rejected": 0, "stored": 5}
    assert document["acknowledgment_999"] is None
    assert w.claims_of(w.riverside) == 5


def test_a_csv_with_one_bad_row_is_refused_whole_with_its_row_and_column(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    rows = list(csv.reader(io.StringIO(example_csv().decode("utf-8"))))
    # Row 4 (the header is row 1): a birth date that is not a date.
    rows[3][rows[0].index("patient_birth_date")] = "1958-13-45"
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    delivery = w.send(out.getvalue().encode("utf-8"), format="csv")
    document = delivery.receipt.document
    assert document["status"] == "rejected"
    assert document["claims"]["stored"] == 0
    assert document["errors"][0]["where"] == "row 4, column patient_birth_date"
    assert "1958-13-45" not in json.dumps(document)
    assert w.claims_of(w.riverside) == 0
    assert w.patients_of(w.riverside) == 0


def test_the_documented_fhir_bundle_is_ingested(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    content = example_bundle()
    claims = sum(
        1 for entry in json.loads(content)["entry"] if entry["resource"]["resourceType"] == "Claim"
    )
    delivery = w.send(content, format="fhir-r4")
    document = delivery.receipt.document
    assert document["status"] == "accepted", document["errors"]
    assert document["claims"]["stored"] == claims
    assert w.claims_of(w.riverside) == claims


def test_a_bundle_with_one_bad_claim_is_refused_whole_with_its_path(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    bundle = json.loads(example_bundle())
    claim = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Claim")
    claim["resource"]["item"][0]["quantity"] = {"value": "many"}
    delivery = w.send(json.dumps(bundle).encode(), format="fhir-r4")
    document = delivery.receipt.document
    assert document["status"] == "rejected"
    assert document["claims"]["stored"] == 0
    assert any("item[0]" in error["where"] for error in document["errors"]), document["errors"]
    assert w.claims_of(w.riverside) == 0


def test_json_that_is_not_a_bundle_is_refused_with_a_reason(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    delivery = w.send(b'{"resourceType": "Patient", "id": "x"}', format="fhir-r4")
    document = delivery.receipt.document
    assert document["status"] == "rejected"
    assert document["errors"], "says why"
    assert w.batches_of(w.riverside) == 1  # kept, with its receipt


def test_an_837i_is_ingested_with_revenue_codes_and_the_facility_type(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    content = (LFH_837I / "two-claims-single-provider.837i").read_bytes()
    delivery = w.send(content, format="x12-837i")
    document = delivery.receipt.document
    assert document["status"] == "accepted", document["errors"]
    assert document["claims"]["stored"] == 2
    with w.sessions() as session:
        claims = session.scalars(select(Claim).where(Claim.practice_id == w.riverside)).all()
        assert len(claims) == 2
        for claim in claims:
            assert claim.lines
            assert all(line.diagnosis_pointers == [] for line in claim.lines)
            assert claim.diagnoses


def test_an_837i_declared_as_837p_is_refused_naming_the_guide(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    content = (LFH_837I / "institutional-claim.837i").read_bytes()
    document = w.send(content, format="x12-837p").receipt.document
    assert document["status"] == "rejected"
    assert any("837I" in error["message"] for error in document["errors"]), document["errors"]
