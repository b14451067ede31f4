"""Reading FHIR R4 Bundles into 837P claims: what is read, and what becomes of each claim."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from claimbridge.formats.fhir import (
    ElementInvalid,
    ElementMissing,
    FhirError,
    NotABundle,
    read_bundle,
)
from claimbridge.formats.fhir.synthetic import synthetic_bundle
from claimbridge.formats.x12 import read_837p, write_837p
from claimbridge.formats.x12.records837 import Party
from tests.unit.formats.fhir.samples import (
    EXAMPLE,
    HADDAD,
    LEO_CLAIM,
    MARIA_CLAIM,
    VECTORS,
    example,
    plain,
    read,
    resource,
)


def test_example_bundle_reads_into_the_expected_claims() -> None:
    reading = read_bundle(EXAMPLE.read_bytes())
    claims = [plain(claim) for claim in reading]

    assert claims == json.loads((VECTORS / "example-bundle.expected.json").read_text())
    assert reading.accepted
    assert [result.claim_id for result in reading.results] == ["LFM-2024-0001", "LFM-2024-0002"]


@pytest.mark.parametrize("name", ["contained-claim", "transaction-bundle"])
def test_vector_reads_into_the_expected_claims(name: str) -> None:
    reading = read_bundle((VECTORS / f"{name}.json").read_bytes())
    claims = [plain(claim) for claim in reading]

    assert claims == json.loads((VECTORS / f"{name}.expected.json").read_text())
    assert reading.errors == []


def test_dependent_is_the_patient_and_the_parent_the_subscriber() -> None:
    claims, _ = read(example())
    leo = claims[1]

    assert leo.patient is not None
    assert (leo.patient.person.first_name, leo.patient.relationship) == ("Leo", "19")
    assert leo.subscriber.relationship == ""
    assert leo.subscriber.person.first_name == "Maria"
    assert leo.subscriber.person.identifier == "BRX448201937"
    assert claims[0].patient is None
    assert claims[0].subscriber.relationship == "18"


def test_providers_come_from_the_care_team_with_their_npi() -> None:
    claims, _ = read(example())

    assert claims[0].rendering_provider is not None
    assert claims[0].rendering_provider.npi == "1987654328"
    assert claims[0].referring_provider is not None
    # A PractitionerRole lends its NPI and specialty to its practitioner.
    assert claims[0].referring_provider.npi == "1456789019"
    assert claims[0].referring_provider.taxonomy == "207RC0000X"
    assert claims[0].billing_provider.provider.tax_id == "991234567"


def test_line_names_its_provider_where_it_differs_from_the_claims() -> None:
    bundle = example()
    claim = resource(bundle, MARIA_CLAIM)
    claim["careTeam"].append(
        {**claim["careTeam"][0], "sequence": 3, "provider": {"reference": "Practitioner/dr-haddad"}}
    )
    claim["item"][1]["careTeamSequence"] = [3]
    resource(bundle, HADDAD)["identifier"] = [
        {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1765432103"}
    ]

    claims, _ = read(bundle)

    first, second, third = claims[0].lines
    assert claims[0].rendering_provider is not None
    assert claims[0].rendering_provider.npi == "1987654328"
    assert first.providers == third.providers == ()
    assert second.rendering_provider is not None
    assert second.rendering_provider.npi == "1765432103"


def test_claims_read_from_fhir_round_trip_through_an_837p() -> None:
    claims, _ = read(example())
    # FHIR names no submitter or receiver; the biller's 837P gives them.
    submission = replace(
        claims[0].submission,
        submitter=Party(role="submitter", name="LAKESIDE", id_kind="etin", identifier="S1"),
        receiver=Party(role="receiver", name="CLEARINGHOUSE", id_kind="etin", identifier="R1"),
    )
    claims = [replace(claim, submission=submission) for claim in claims]

    x12 = write_837p(
        claims,
        sender="S1",
        receiver="R1",
        interchange_control_number=1,
        group_control_number=1,
        now=datetime(2024, 3, 1, tzinfo=UTC),
    )
    reading = read_837p(x12)

    assert list(reading) == claims
    assert reading.errors == []


@pytest.mark.parametrize("bundle_type", ["collection", "transaction", "batch"])
def test_synthetic_bundle_of_each_type_reads_every_claim(bundle_type: str) -> None:
    claims, reading = read(synthetic_bundle(40, seed=3, bundle_type=bundle_type))

    assert len(claims) == 40
    assert reading.accepted
    assert all(claim.total_charge == claim.line_charges for claim in claims)


def test_synthetic_bundle_is_a_function_of_the_seed() -> None:
    assert synthetic_bundle(5, seed=11) == synthetic_bundle(5, seed=11)
    assert synthetic_bundle(5, seed=11) != synthetic_bundle(5, seed=12)


def test_a_stream_reads_like_bytes() -> None:
    data = EXAMPLE.read_bytes()

    assert list(read_bundle(io.BytesIO(data))) == list(read_bundle(data))


def test_reading_is_lazy_and_iterates_once() -> None:
    reading = read_bundle(b"not json at all")
    assert reading.results == []  # nothing was read yet

    with pytest.raises(FhirError):
        list(reading)
    with pytest.raises(RuntimeError, match="only once"):
        list(reading)


def test_one_bad_claim_is_rejected_and_the_others_are_read() -> None:
    bundle = example()
    resource(bundle, MARIA_CLAIM)["item"][0]["quantity"] = {"value": "1"}

    claims, reading = read(bundle)

    assert [claim.claim_id for claim in claims] == ["LFM-2024-0002"]
    rejected, accepted = reading.results
    assert (rejected.entry, rejected.claim_id, rejected.accepted) == (8, "LFM-2024-0001", False)
    assert accepted.accepted
    [error] = rejected.errors
    assert isinstance(error, ElementInvalid)
    assert error.path == "Bundle.entry[8].resource.item[0].quantity.value"
    assert str(error).endswith("(at Bundle.entry[8].resource.item[0].quantity.value)")
    assert not reading.accepted
    with pytest.raises(ElementInvalid) as raised:
        reading.raise_for_errors()
    assert raised.value is error


def test_every_bad_item_of_a_claim_is_reported() -> None:
    bundle = example()
    items = resource(bundle, LEO_CLAIM)["item"]
    del items[0]["servicedDate"]
    items[2]["unitPrice"]["currency"] = "EUR"

    _, reading = read(bundle)

    assert [error.path for error in reading.results[1].errors] == [
        "Bundle.entry[13].resource.item[0].servicedDate",
        "Bundle.entry[13].resource.item[2].unitPrice.currency",
    ]


def test_refused_vector_rejects_each_claim_with_its_reason() -> None:
    reading = read_bundle((VECTORS / "refused" / "ehr-export-mixed.json").read_bytes())
    claims = list(reading)
    expected = json.loads((VECTORS / "refused" / "ehr-export-mixed.expected.json").read_text())

    assert [claim.claim_id for claim in claims] == expected["accepted"]
    rejected = [
        {"entry": result.entry, "errors": [[error.code, error.path] for error in result.errors]}
        for result in reading.results
        if not result.accepted
    ]
    assert rejected == expected["rejected"]


def test_bundle_without_claims_is_an_error_of_the_bundle() -> None:
    bundle = example()
    bundle["entry"] = [
        entry for entry in bundle["entry"] if entry["resource"]["resourceType"] != "Claim"
    ]

    claims, reading = read(bundle)

    assert claims == []
    [error] = reading.bundle_errors
    assert isinstance(error, ElementMissing)
    assert error.path == "Bundle.entry"
    with pytest.raises(ElementMissing):
        reading.raise_for_errors()


def test_entry_that_is_not_an_object_is_noted_and_the_claims_still_read() -> None:
    bundle = example()
    bundle["entry"].append(["not", "an", "entry"])

    claims, reading = read(bundle)

    assert len(claims) == 2
    assert [(type(e).__name__, e.path) for e in reading.bundle_errors] == [
        ("ElementInvalid", "Bundle.entry[14]")
    ]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"resourceType": "Patient"}, "Bundle"),
        ({"type": "document"}, "Bundle.type"),
        ({"type": "searchset"}, "Bundle.type"),
        ({"entry": {"resource": {}}}, "Bundle.entry"),
    ],
)
def test_document_that_is_not_a_bundle_read_here_is_refused(
    change: dict[str, object], path: str
) -> None:
    bundle = {**example(), **change}

    with pytest.raises(NotABundle) as raised:
        read(bundle)
    assert raised.value.path == path


def test_json_that_is_not_an_object_is_not_a_bundle() -> None:
    with pytest.raises(NotABundle):
        list(read_bundle(b'[{"resourceType": "Bundle"}]'))


def test_bundle_level_fault_is_reported_and_the_claims_still_read() -> None:
    bundle = example()
    bundle["timestamp"] = "yesterday"

    claims, reading = read(bundle)

    assert len(claims) == 2
    assert [e.path for e in reading.bundle_errors] == ["Bundle.timestamp"]
