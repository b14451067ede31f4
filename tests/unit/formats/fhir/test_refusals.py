"""Each way a claim can be wrong: refused with the error of its kind, at its JSON path.

Every case changes one thing in the example Bundle (``docs/examples/bundle.json``),
reads it, and expects Maria's claim (entry 8) or Leo's (entry 13) to be
rejected with exactly one error, while the other claim is still read. A last
group puts a patient's name or identifiers where a code belongs, and checks
that no error repeats them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from claimbridge.errors import PayloadTooLarge
from claimbridge.formats.fhir import (
    CodeSystemUnsupported,
    DuplicateEntry,
    ElementInvalid,
    ElementMissing,
    FhirError,
    ReferenceAmbiguous,
    ReferenceUnresolved,
    ResourceTypeUnexpected,
    TotalMismatch,
    read_bundle,
)
from tests.unit.formats.fhir.samples import (
    HADDAD,
    HADDAD_ROLE,
    LEO_CLAIM,
    LEO_COVERAGE,
    LEO_ENCOUNTER,
    MARIA,
    MARIA_CLAIM,
    MARIA_COVERAGE,
    PRACTICE,
    encode,
    example,
    read,
    resource,
)

Bundle = dict[str, Any]
Change = Callable[[Bundle], None]
M = MARIA_CLAIM
CPT = "http://www.ama-assn.org/go/cpt"
DX = "diagnosis.0.diagnosisCodeableConcept.coding.0"
CPT_CODING = "item.0.productOrService.coding.0"
POS_CODING = "item.0.locationCodeableConcept.coding.0"
NOWHERE = "urn:uuid:00000000-0000-4000-8000-000000000000"


def _walk(bundle: Bundle, entry: int, path: str) -> tuple[Any, Any]:
    """The container and key that ``path`` (``item.0.quantity``) names in an entry's resource."""
    target: Any = resource(bundle, entry)
    *steps, last = path.split(".")
    for step in steps:
        target = target[int(step)] if step.isdigit() else target[step]
    return target, int(last) if last.isdigit() else last


def put(entry: int, path: str, value: Any) -> Change:
    def change(bundle: Bundle) -> None:
        container, key = _walk(bundle, entry, path)
        container[key] = value

    return change


def drop(entry: int, *paths: str) -> Change:
    def change(bundle: Bundle) -> None:
        for path in paths:
            container, key = _walk(bundle, entry, path)
            del container[key]

    return change


def both(*changes: Change) -> Change:
    def change(bundle: Bundle) -> None:
        for each in changes:
            each(bundle)

    return change


def at(entry: int, path: str) -> str:
    """The JSON path the reader names for ``path`` in an entry's resource."""
    steps = "".join(f"[{step}]" if step.isdigit() else f".{step}" for step in path.split("."))
    return f"Bundle.entry[{entry}].resource{steps}"


def _second_focal_insurance(bundle: Bundle) -> None:
    insurance = resource(bundle, M)["insurance"]
    insurance.append({**insurance[0], "sequence": 2})


def _duplicate_practice_url(bundle: Bundle) -> None:
    bundle["entry"][HADDAD]["fullUrl"] = bundle["entry"][PRACTICE]["fullUrl"]


def _modifiers(*codes: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": CPT, "code": code}]} for code in codes]


CASES = [
    # References that resolve to nothing, to two things, or to the wrong thing.
    pytest.param(
        put(M, "patient.reference", NOWHERE),
        ReferenceUnresolved,
        at(M, "patient.reference"),
        id="patient unresolved",
    ),
    pytest.param(
        put(M, "insurance.0.coverage.reference", "Coverage/gone"),
        ReferenceUnresolved,
        at(M, "insurance.0.coverage.reference"),
        id="coverage unresolved",
    ),
    pytest.param(
        put(M, "item.1.encounter.0.reference", "Encounter/elsewhere"),
        ReferenceUnresolved,
        at(M, "item.1.encounter.0.reference"),
        id="encounter unresolved",
    ),
    pytest.param(
        put(M, "careTeam.1.provider.reference", "Practitioner/none"),
        ReferenceUnresolved,
        at(M, "careTeam.1.provider.reference"),
        id="care team provider unresolved",
    ),
    pytest.param(
        put(MARIA_COVERAGE, "payor.0.reference", "http://x.example/Organization/1"),
        ReferenceUnresolved,
        at(MARIA_COVERAGE, "payor.0.reference"),
        id="payor unresolved",
    ),
    pytest.param(
        put(HADDAD_ROLE, "practitioner.reference", "Practitioner/nobody"),
        ReferenceUnresolved,
        at(HADDAD_ROLE, "practitioner.reference"),
        id="practitioner of a role unresolved",
    ),
    pytest.param(
        put(M, "patient.reference", "#patient-1"),
        ReferenceUnresolved,
        at(M, "patient.reference"),
        id="contained reference unresolved",
    ),
    pytest.param(
        put(M, "insurance.0.coverage", {"display": "Blue River"}),
        ElementMissing,
        at(M, "insurance.0.coverage.reference"),
        id="reference without a target",
    ),
    pytest.param(
        put(M, "patient.reference", "Coverage/coverage-maria"),
        ResourceTypeUnexpected,
        at(M, "patient.reference"),
        id="patient is a coverage",
    ),
    pytest.param(
        _duplicate_practice_url,
        ReferenceAmbiguous,
        at(M, "provider.reference"),
        id="two entries share a fullUrl",
    ),
    # The claim itself.
    pytest.param(
        put(M, "type.coding.0.code", "institutional"),
        ElementInvalid,
        at(M, "type"),
        id="institutional claim",
    ),
    pytest.param(
        put(M, "use", "preauthorization"), ElementInvalid, at(M, "use"), id="preauthorization"
    ),
    pytest.param(put(M, "status", "cancelled"), ElementInvalid, at(M, "status"), id="cancelled"),
    pytest.param(drop(M, "status"), ElementMissing, at(M, "status"), id="status missing"),
    pytest.param(
        put(M, "item.0.servicedate", "2024-02-27"),
        ElementInvalid,
        at(M, "item.0.servicedate"),
        id="misspelt element",
    ),
    pytest.param(
        put(M, "contained", [{"resourceType": "Nonsense", "id": "x"}]),
        ElementInvalid,
        at(M, "contained.0.resourceType"),
        id="unknown contained resource",
    ),
    pytest.param(
        put(M, "identifier.0.value", "X" * 39),
        ElementInvalid,
        at(M, "identifier.0.value"),
        id="claim id too long",
    ),
    pytest.param(
        _second_focal_insurance,
        ElementInvalid,
        at(M, "insurance.1.focal"),
        id="two focal insurances",
    ),
    pytest.param(drop(M, "diagnosis"), ElementMissing, at(M, "diagnosis"), id="no diagnosis"),
    pytest.param(
        put(M, f"{DX}.system", "http://hl7.org/fhir/sid/icd-10"),
        CodeSystemUnsupported,
        at(M, "diagnosis.0.diagnosisCodeableConcept.coding"),
        id="ICD-10 (WHO) diagnosis",
    ),
    pytest.param(
        put(M, f"{DX}.code", "E11.99999"),
        ElementInvalid,
        at(M, f"{DX}.code"),
        id="diagnosis not ICD-10-CM",
    ),
    pytest.param(put(M, "total.value", 236.99), TotalMismatch, at(M, "total"), id="total mismatch"),
    # Items.
    pytest.param(
        put(M, f"{CPT_CODING}.system", "http://snomed.info/sct"),
        CodeSystemUnsupported,
        at(M, "item.0.productOrService.coding"),
        id="SNOMED procedure",
    ),
    pytest.param(
        put(M, f"{CPT_CODING}.code", "9921"),
        ElementInvalid,
        at(M, f"{CPT_CODING}.code"),
        id="not a CPT code",
    ),
    pytest.param(
        put(M, "item.0.quantity.value", 0),
        ElementInvalid,
        at(M, "item.0.quantity.value"),
        id="quantity zero",
    ),
    pytest.param(
        put(M, "item.0.quantity.value", "1"),
        ElementInvalid,
        at(M, "item.0.quantity.value"),
        id="quantity a string",
    ),
    pytest.param(
        put(M, "item.0.quantity.value", 1.00001),
        ElementInvalid,
        at(M, "item.0.quantity.value"),
        id="quantity too fine",
    ),
    pytest.param(
        put(M, "item.0.net.value", 190.001),
        ElementInvalid,
        at(M, "item.0.net.value"),
        id="fraction of a cent",
    ),
    pytest.param(
        put(M, "item.0.net.value", -190),
        ElementInvalid,
        at(M, "item.0.net.value"),
        id="negative charge",
    ),
    pytest.param(
        put(M, "item.0.net.currency", "EUR"),
        ElementInvalid,
        at(M, "item.0.net.currency"),
        id="euros",
    ),
    pytest.param(
        drop(M, "item.0.net", "item.0.unitPrice"),
        ElementMissing,
        at(M, "item.0.net"),
        id="no price",
    ),
    pytest.param(
        drop(M, "item.0.servicedDate"),
        ElementMissing,
        at(M, "item.0.servicedDate"),
        id="no service date",
    ),
    pytest.param(
        put(M, "item.0.servicedDate", "2024-02"),
        ElementInvalid,
        at(M, "item.0.servicedDate"),
        id="service month only",
    ),
    pytest.param(
        both(
            drop(M, "item.0.servicedDate"),
            put(M, "item.0.servicedPeriod", {"start": "2024-02-27", "end": "2024-02-26"}),
        ),
        ElementInvalid,
        at(M, "item.0.servicedPeriod.end"),
        id="period ends before it starts",
    ),
    pytest.param(
        drop(M, *(f"item.{n}.locationCodeableConcept" for n in range(3))),
        ElementMissing,
        at(M, "item.0.locationCodeableConcept"),
        id="no place of service",
    ),
    pytest.param(
        put(M, f"{POS_CODING}.code", "00"),
        ElementInvalid,
        at(M, f"{POS_CODING}.code"),
        id="unassigned place of service",
    ),
    pytest.param(
        put(M, "item.0.diagnosisSequence", [1, 7]),
        ElementInvalid,
        at(M, "item.0.diagnosisSequence.1"),
        id="pointer to no diagnosis",
    ),
    pytest.param(
        put(M, "item.0.diagnosisSequence", [1, 2, 1, 2, 1]),
        ElementInvalid,
        at(M, "item.0.diagnosisSequence"),
        id="five pointers",
    ),
    pytest.param(
        put(M, "item.0.careTeamSequence", [9]),
        ElementInvalid,
        at(M, "item.0.careTeamSequence.0"),
        id="care team sequence unknown",
    ),
    pytest.param(
        put(M, "item.0.modifier", _modifiers("25", "59", "XS", "LT", "RT")),
        ElementInvalid,
        at(M, "item.0.modifier"),
        id="five modifiers",
    ),
    pytest.param(
        put(M, "item.0.encounter.0.reference", "Encounter/encounter-leo-0229"),
        ElementInvalid,
        at(LEO_ENCOUNTER, "subject.reference"),
        id="encounter of another patient",
    ),
    # Patient, coverage, providers.
    pytest.param(
        put(MARIA, "birthDate", "1984"),
        ElementInvalid,
        at(MARIA, "birthDate"),
        id="birth year only",
    ),
    pytest.param(
        drop(MARIA, "birthDate"), ElementMissing, at(MARIA, "birthDate"), id="no birth date"
    ),
    pytest.param(
        drop(MARIA, "name.0.family"),
        ElementMissing,
        at(MARIA, "name.0.family"),
        id="no family name",
    ),
    pytest.param(
        put(MARIA_COVERAGE, "beneficiary.reference", "Patient/patient-leo"),
        ElementInvalid,
        at(MARIA_COVERAGE, "beneficiary.reference"),
        id="beneficiary is someone else",
    ),
    pytest.param(
        drop(MARIA_COVERAGE, "subscriberId"),
        ElementMissing,
        at(MARIA_COVERAGE, "subscriberId"),
        id="no member id",
    ),
    pytest.param(
        drop(LEO_COVERAGE, "subscriber"),
        ElementMissing,
        at(LEO_COVERAGE, "subscriber"),
        id="no subscriber for a child",
    ),
    pytest.param(
        put(HADDAD_ROLE, "identifier.0.value", "1456789010"),
        ElementInvalid,
        at(HADDAD_ROLE, "identifier.0.value"),
        id="NPI check digit wrong",
    ),
    pytest.param(
        put(HADDAD_ROLE, "period", "2024"),
        ElementInvalid,
        at(HADDAD_ROLE, "period"),
        id="unsound provider resource",
    ),
    pytest.param(
        drop(HADDAD_ROLE, "identifier"),
        ElementMissing,
        at(HADDAD, "identifier"),
        id="provider without NPI",
    ),
]


@pytest.mark.parametrize(("change", "error", "path"), CASES)
def test_claim_is_rejected_with_the_error_at_its_path(
    change: Change, error: type[FhirError], path: str
) -> None:
    bundle = example()
    change(bundle)

    claims, reading = read(bundle)

    rejected = [result for result in reading.results if not result.accepted]
    assert len(rejected) == 1, reading.errors
    [found] = rejected[0].errors
    assert (type(found), found.path) == (error, path)
    assert found.where == path
    assert len(claims) == 1  # the other claim is read


def test_duplicate_fullurl_is_an_error_of_the_bundle() -> None:
    bundle = example()
    _duplicate_practice_url(bundle)

    _, reading = read(bundle)

    assert [(type(e), e.path) for e in reading.bundle_errors] == [
        (DuplicateEntry, f"Bundle.entry[{HADDAD}].fullUrl")
    ]


def test_claim_with_unsound_resources_reports_each_fault_of_them() -> None:
    bundle = example()
    patient = resource(bundle, MARIA)
    patient["gender"] = "F"  # not a FHIR code
    patient["birthDate"] = "19840719"
    patient["nickname"] = "Mia"

    _, reading = read(bundle)

    # The FHIR R4 model finds the malformed date and the unknown element; the
    # gender (a code of the right form, not of the value set) is not reached.
    assert [(type(e), e.path) for e in reading.results[0].errors] == [
        (ElementInvalid, f"Bundle.entry[{MARIA}].resource.birthDate"),
        (ElementInvalid, f"Bundle.entry[{MARIA}].resource.nickname"),
    ]
    assert reading.results[1].accepted


def test_size_error_is_also_a_payload_too_large() -> None:
    # The API maps PayloadTooLarge to 413, whichever reader refused the body.
    with pytest.raises(PayloadTooLarge):
        read(example(), max_bytes=1000)


# -- no PHI in messages --------------------------------------------------------------

NAME = "Maria Elena Lopez"
MRN = "MRN-20451"


PHI_CASES = [
    pytest.param(put(M, f"{DX}.code", NAME), NAME, id="name as diagnosis"),
    pytest.param(put(M, f"{DX}.code", MRN), MRN, id="record number as diagnosis"),
    pytest.param(put(M, f"{DX}.code", "F32.A9XYZ"), "F32.A9XYZ", id="diagnosis code itself"),
    pytest.param(put(M, f"{CPT_CODING}.code", NAME), NAME, id="name as procedure"),
    pytest.param(put(M, f"{CPT_CODING}.code", MRN), MRN, id="record number as procedure"),
    pytest.param(put(M, "item.0.modifier", _modifiers("Lopez")), "Lopez", id="name as modifier"),
    pytest.param(put(PRACTICE, "identifier.0.value", NAME), NAME, id="name as NPI"),
    pytest.param(put(PRACTICE, "identifier.0.value", "1234567890"), "1234567890", id="NPI"),
    pytest.param(put(M, "item.0.quantity.value", NAME), NAME, id="name as quantity"),
    pytest.param(put(M, "item.0.net.value", NAME), NAME, id="name as amount"),
    pytest.param(put(MARIA, "gender", NAME), NAME, id="name as gender"),
    pytest.param(put(MARIA, "birthDate", "1984-07"), "1984-07", id="partial birth date"),
    pytest.param(put(MARIA, "birthDate", NAME), NAME, id="name as birth date"),
    pytest.param(put(M, f"{POS_CODING}.code", NAME), NAME, id="name as place of service"),
    pytest.param(put(M, "patient.reference", f"Patient/{MRN}"), MRN, id="MRN as reference"),
    pytest.param(put(M, "type.coding.0.code", NAME), NAME, id="name as claim type"),
    pytest.param(put(MARIA, "MariaElenaLopez", "x"), "Lopez", id="name as element"),
    pytest.param(put(MARIA, "mariaLopez", "x"), "x", id="unknown element's value"),
    pytest.param(
        put(MARIA_COVERAGE, "relationship.coding.0.code", "BRX448201937"),
        "BRX448201937",
        id="member id as relationship",
    ),
]


@pytest.mark.parametrize(("change", "value"), PHI_CASES)
def test_errors_never_quote_the_value(change: Change, value: str) -> None:
    bundle = example()
    change(bundle)

    _, reading = read(bundle)

    assert reading.errors
    for error in reading.errors:
        assert value not in str(error)
        assert value not in repr(error.to_dict())
        assert value not in (error.detail or "")
        assert error.__cause__ is None


@pytest.mark.parametrize("factor", [b"1E+999999", b"1E-999999", b"0.33333333333333333333333333"])
def test_price_factor_that_makes_no_amount_is_refused(factor: bytes) -> None:
    bundle = example()
    resource(bundle, LEO_CLAIM)["item"][2]["factor"] = 7.25
    data = encode(bundle).replace(b"7.25", factor)

    reading = read_bundle(data)
    claims = list(reading)

    assert len(claims) == 1
    [error] = reading.results[1].errors
    assert isinstance(error, ElementInvalid)
    assert error.path.startswith(f"Bundle.entry[{LEO_CLAIM}].resource.item[2].")
