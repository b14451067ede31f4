"""Synthetic FHIR R4 Bundles of professional claims, for demos, tests and benchmarks.

``synthetic_bundle(count, seed=...)`` builds a Bundle (as JSON-ready
Python values) of ``count`` professional Claims, each with its Patient,
Coverage and Encounter, plus the practices, practitioners and payers they
reference, the way an EHR's export would: every entry has a
``urn:uuid:`` fullUrl and references use it. One patient in five is a
dependent, insured through a parent (a RelatedPerson). ``write_synthetic_bundle``
writes one as JSON. Both are a function of the seed alone.

Everything is invented, from the same short lists as the synthetic 837P
(``formats/x12/synthetic_data``): names, addresses and identifiers are
drawn at random (NPIs carry their check digit); the code sets are real
(ICD-10-CM, CPT/HCPCS, CMS places of service). Reading a synthetic Bundle
with ``read_bundle`` accepts every claim.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import date, timedelta
from typing import Any, BinaryIO

from claimbridge.formats.fhir.claims import C4BB_CARE_TEAM_ROLE_SYSTEM, ICD10CM_SYSTEM
from claimbridge.formats.fhir.lines import CPT_SYSTEM, HCPCS_SYSTEMS
from claimbridge.formats.fhir.parties import EIN_SYSTEM, NPI_SYSTEM, NUCC_SYSTEM, V2_0203
from claimbridge.formats.x12 import synthetic_data as data

__all__ = ["POS_SYSTEM", "synthetic_bundle", "write_synthetic_bundle"]

POS_SYSTEM = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
_CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
_COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_MRN_SYSTEM = "urn:oid:2.16.840.1.113883.19.5.99999.1"  # the HL7 example OID arc
_CLAIM_SYSTEM = "urn:oid:2.16.840.1.113883.19.5.99999.2"
_START = date(2024, 1, 2)
_PRACTICES = 4
_PRACTITIONERS = 12
JSON = dict[str, Any]


def synthetic_bundle(count: int, *, seed: int = 0, bundle_type: str = "collection") -> JSON:
    """A Bundle of ``count`` professional claims and what they reference."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    entries: list[JSON] = []
    practices = [_add(entries, rng, _practice(rng, number)) for number in range(_PRACTICES)]
    practitioners = [_add(entries, rng, _practitioner(rng)) for _ in range(_PRACTITIONERS)]
    payers = [_add(entries, rng, _payer(name, payer_id)) for name, payer_id, _ in data.PAYERS]
    for number in range(count):
        _add_claim(
            entries, rng, number, practices=practices, practitioners=practitioners, payers=payers
        )
    return {
        "resourceType": "Bundle",
        "id": f"synthetic-{seed}",
        "type": bundle_type,
        "timestamp": "2024-03-01T09:30:00Z",
        "entry": entries,
    }


def write_synthetic_bundle(count: int, *, seed: int = 0, out: BinaryIO) -> None:
    """Write ``synthetic_bundle(count, seed=seed)`` to ``out`` as UTF-8 JSON."""
    out.write(json.dumps(synthetic_bundle(count, seed=seed), separators=(",", ":")).encode())


def _add(entries: list[JSON], rng: random.Random, resource: JSON) -> str:
    full_url = f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
    entries.append({"fullUrl": full_url, "resource": resource})
    return full_url


def _add_claim(
    entries: list[JSON],
    rng: random.Random,
    number: int,
    *,
    practices: list[str],
    practitioners: list[str],
    payers: list[str],
) -> None:
    patient = _add(entries, rng, _person(rng, "Patient", mrn=f"MRN{number:08d}"))
    subscriber = None
    if rng.random() < 0.2:
        subscriber = _add(entries, rng, {**_person(rng, "RelatedPerson"), "patient": _ref(patient)})
    coverage = _add(entries, rng, _coverage(rng, patient, subscriber, rng.choice(payers)))
    day = _START + timedelta(days=rng.randrange(300))
    encounter = _add(entries, rng, _encounter(patient, day))
    claim = _claim(rng, number, day, patient=patient, coverage=coverage, encounter=encounter)
    claim["provider"] = _ref(rng.choice(practices))
    claim["careTeam"][0]["provider"] = _ref(rng.choice(practitioners))
    _add(entries, rng, claim)


def _ref(full_url: str) -> JSON:
    return {"reference": full_url}


def _coding(system: str, code: str) -> JSON:
    return {"coding": [{"system": system, "code": code}]}


def _address(rng: random.Random) -> JSON:
    city, state, zip3 = rng.choice(data.CITIES)
    return {
        "use": "home",
        "line": [f"{rng.randrange(1, 9999)} {rng.choice(data.STREETS).title()}"],
        "city": city.title(),
        "state": state,
        "postalCode": f"{zip3}{rng.randrange(100):02d}",
    }


def _practice(rng: random.Random, number: int) -> JSON:
    return {
        "resourceType": "Organization",
        "name": f"{data.ORGANIZATIONS[number % len(data.ORGANIZATIONS)].title()} Family Practice",
        "identifier": [
            {"system": NPI_SYSTEM, "value": data.npi(rng, kind="2")},
            {"system": EIN_SYSTEM, "value": f"{rng.randrange(10**8, 10**9)}"},
        ],
        "address": [{**_address(rng), "use": "work"}],
    }


def _practitioner(rng: random.Random) -> JSON:
    return {
        "resourceType": "Practitioner",
        "name": [
            {
                "family": rng.choice(data.SURNAMES).title(),
                "given": [rng.choice(data.FEMALE_NAMES).title()],
            }
        ],
        "identifier": [{"system": NPI_SYSTEM, "value": data.npi(rng)}],
        "qualification": [{"code": _coding(NUCC_SYSTEM, rng.choice(data.TAXONOMIES))}],
    }


def _payer(name: str, payer_id: str) -> JSON:
    return {
        "resourceType": "Organization",
        "name": name.title(),
        "identifier": [{"type": _coding(V2_0203, "NIIP"), "value": payer_id}],
    }


def _person(rng: random.Random, kind: str, *, mrn: str = "") -> JSON:
    female = rng.random() < 0.5
    names = data.FEMALE_NAMES if female else data.MALE_NAMES
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 75))
    person: JSON = {
        "resourceType": kind,
        "name": [
            {
                "use": "official",
                "family": rng.choice(data.SURNAMES).title(),
                "given": [rng.choice(names).title()],
            }
        ],
        "gender": "female" if female else "male",
        "birthDate": born.isoformat(),
        "address": [_address(rng)],
    }
    if mrn:
        person["identifier"] = [
            {"type": _coding(V2_0203, "MR"), "system": _MRN_SYSTEM, "value": mrn}
        ]
    return person


def _coverage(rng: random.Random, patient: str, subscriber: str | None, payer: str) -> JSON:
    coverage: JSON = {
        "resourceType": "Coverage",
        "status": "active",
        "subscriberId": f"W{rng.randrange(10**9):09d}",
        "beneficiary": _ref(patient),
        "relationship": _coding(_RELATIONSHIP, "child" if subscriber else "self"),
        "payor": [_ref(payer)],
        "class": [
            {
                "type": _coding(_COVERAGE_CLASS, "group"),
                "value": f"GRP{rng.randrange(10**5):05d}",
            }
        ],
    }
    if subscriber:
        coverage["subscriber"] = _ref(subscriber)
    return coverage


def _encounter(patient: str, day: date) -> JSON:
    return {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": _ACT_CODE, "code": "AMB"},
        "subject": _ref(patient),
        "period": {"start": f"{day.isoformat()}T09:00:00Z", "end": f"{day.isoformat()}T09:30:00Z"},
    }


def _claim(
    rng: random.Random, number: int, day: date, *, patient: str, coverage: str, encounter: str
) -> JSON:
    codes = rng.sample(data.ICD10CM, rng.randint(1, 3))
    visit = rng.choice(data.RETURN_VISITS)
    items = [_item(rng, 1, procedure=visit, day=day, encounter=encounter)]
    for code, cents, modifiers, most in rng.sample(data.EXTRA_PROCEDURES, rng.randint(0, 3)):
        item = _item(
            rng,
            len(items) + 1,
            procedure=(code, cents),
            modifiers=modifiers,
            units=rng.randint(1, most),
            day=day,
            encounter=encounter,
        )
        items.append(item)
    for item in items:
        item["diagnosisSequence"] = sorted(rng.sample(range(1, len(codes) + 1), 1))
    total = sum(round(item["net"]["value"] * 100) for item in items)
    return {
        "resourceType": "Claim",
        "identifier": [{"system": _CLAIM_SYSTEM, "value": f"PCN{number:09d}"}],
        "status": "active",
        "type": _coding(_CLAIM_TYPE, "professional"),
        "use": "claim",
        "patient": _ref(patient),
        "created": (day + timedelta(days=1)).isoformat(),
        "priority": {"coding": [{"code": "normal"}]},
        "careTeam": [{"sequence": 1, "role": _coding(C4BB_CARE_TEAM_ROLE_SYSTEM, "rendering")}],
        "diagnosis": [
            {
                "sequence": sequence,
                "diagnosisCodeableConcept": _coding(ICD10CM_SYSTEM, _dotted(code)),
            }
            for sequence, code in enumerate(codes, 1)
        ],
        "insurance": [{"sequence": 1, "focal": True, "coverage": _ref(coverage)}],
        "item": items,
        "total": {"value": total / 100, "currency": "USD"},
    }


def _dotted(code: str) -> str:
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def _item(
    rng: random.Random,
    sequence: int,
    *,
    procedure: tuple[str, int],
    modifiers: tuple[str, ...] = (),
    units: int = 1,
    day: date,
    encounter: str,
) -> JSON:
    code, cents = procedure
    system = CPT_SYSTEM if code[0].isdigit() else HCPCS_SYSTEMS[0]
    item: JSON = {
        "sequence": sequence,
        "careTeamSequence": [1],
        "productOrService": _coding(system, code),
        "servicedDate": day.isoformat(),
        "locationCodeableConcept": _coding(POS_SYSTEM, "11"),
        "quantity": {"value": units},
        "unitPrice": {"value": cents / 100, "currency": "USD"},
        "net": {"value": cents * units / 100, "currency": "USD"},
        "encounter": [_ref(encounter)],
    }
    if modifiers:
        item["modifier"] = [_coding(system, modifier) for modifier in modifiers]
    if rng.random() < 0.1:
        item["servicedPeriod"] = {"start": day.isoformat(), "end": day.isoformat()}
        del item["servicedDate"]
    return item
