"""Write professional claims as the CSV charge template, for demos and tests.

``write_charges(claims)`` gives a charge file (UTF-8 without a byte-order
mark, CRLF line ends, every template column in the header) and
``iter_charges`` the same in pieces, one claim at a time. ``read_charges``
reads it back into equal claims when the claims hold only what the
template carries (what ``read_charges`` itself yields, with any
``submission``). Anything else is left out: other payers, notes, dates
other than the service dates, provider names and taxonomies, line places
of service. Cells are written as the claims hold them; a file meant for a
spreadsheet should not carry text that starts with ``=``, ``+``, ``-`` or
``@``, which spreadsheets run as formulas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date

from claimbridge.formats.csv.cells import RELATIONSHIPS
from claimbridge.formats.csv.parties import SELF
from claimbridge.formats.csv.template import COLUMNS, MAX_DIAGNOSES, MAX_MODIFIERS
from claimbridge.formats.x12.records837 import Party, reference_value
from claimbridge.formats.x12.x837p import ProfessionalClaim, ServiceLine

__all__ = ["HEADER", "iter_charges", "write_charges"]

HEADER = tuple(column.name for column in COLUMNS)
_WORDS = {code: word for word, code in RELATIONSHIPS.items()}


def write_charges(claims: Iterable[ProfessionalClaim]) -> bytes:
    """The charge file holding ``claims``, one row per service line."""
    return b"".join(iter_charges(claims))


def iter_charges(claims: Iterable[ProfessionalClaim]) -> Iterator[bytes]:
    """The charge file in pieces: the header, then each claim's rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for claim in claims:
        head = _claim_cells(claim)
        shared = _npi(claim.rendering_provider)
        for line in claim.lines:
            cells = head | _line_cells(line, shared)
            writer.writerow([cells.get(name, "") for name in HEADER])
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    tail = buffer.getvalue()
    if tail:
        yield tail.encode("utf-8")


def _claim_cells(claim: ProfessionalClaim) -> dict[str, str]:
    subscriber = claim.subscriber.person
    patient = claim.patient.person if claim.patient is not None else subscriber
    address = patient.address
    billing = claim.billing_provider.provider
    cells = {
        "claim_id": claim.claim_id,
        "patient_account": reference_value(claim.references, "EA") or "",
        "patient_last_name": patient.name,
        "patient_first_name": patient.first_name,
        "patient_birth_date": _iso(patient.birth_date),
        "patient_sex": patient.gender,
        "member_id": subscriber.identifier,
        "payer_name": claim.payer.name,
        "payer_id": claim.payer.identifier,
        "group_number": claim.subscriber.group_number,
        "billing_npi": billing.identifier,
        "billing_name": billing.name,
        "billing_tax_id": reference_value(billing.references, "EI") or "",
        "referring_npi": _npi(claim.referring_provider),
        "place_of_service": claim.place_of_service,
    }
    if address is not None:
        cells |= {
            "patient_address": address.street,
            "patient_city": address.city,
            "patient_state": address.state,
            "patient_postal_code": address.postal_code,
        }
    if claim.patient is None:
        cells["relationship"] = _WORDS[SELF]
    else:
        code = claim.patient.relationship
        cells |= {
            "relationship": _WORDS.get(code, code),
            "subscriber_last_name": subscriber.name,
            "subscriber_first_name": subscriber.first_name,
            "subscriber_birth_date": _iso(subscriber.birth_date),
        }
    for n, diagnosis in enumerate(claim.diagnoses[:MAX_DIAGNOSES], start=1):
        cells[f"diagnosis_{n}"] = diagnosis.code
    return cells


def _line_cells(line: ServiceLine, shared_rendering: str) -> dict[str, str]:
    period = line.service_date
    cells = {
        "rendering_npi": _npi(line.rendering_provider) or shared_rendering,
        "service_date": _iso(period.first if period else None),
        "service_date_end": _iso(period.last) if period and period.last != period.first else "",
        "procedure_code": line.procedure,
        "units": format(line.units, "f"),
        "charge": str(line.charge),
        "diagnosis_pointers": ",".join(str(pointer) for pointer in line.diagnosis_pointers),
    }
    for n, modifier in enumerate(line.modifiers[:MAX_MODIFIERS], start=1):
        cells[f"modifier_{n}"] = modifier
    drug = line.drug
    if drug is not None:
        cells |= {
            "ndc": drug.ndc,
            "ndc_quantity": format(drug.quantity, "f"),
            "ndc_unit": drug.unit,
        }
    return cells


def _npi(party: Party | None) -> str:
    return party.identifier if party is not None and party.id_kind == "npi" else ""


def _iso(day: date | None) -> str:
    return "" if day is None else day.isoformat()
