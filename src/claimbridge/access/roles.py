"""The policy table: roles → permissions → field views. One declarative place.

Printed by ``claimbridge access matrix`` and rendered into the docs. A
role's *view* of a record is the set of fields it may see (minimum
necessary, 45 CFR 164.502(b)); every output (API, pages, exports, error
messages) is projected through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from claimbridge.access.permissions import PHI_PERMISSIONS, Permission
from claimbridge.storage.orgs import Role

P = Permission

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.PRACTICE_ADMIN: frozenset(
            {
                P.USER_MANAGE,
                P.TOKEN_MANAGE,
                P.ENGAGEMENT_MANAGE,
                P.ENGAGEMENT_READ,
                P.CLAIM_LIST,
                P.BREAK_GLASS_REVIEW,
                P.SIGNING_KEY_MANAGE,
                # Uploading brings PHI in and shows none; the admin holds it so a
                # machine (the EHR's nightly export) can be given it by certificate.
                P.BATCH_UPLOAD,
                # The practice answers for what is billed in its name: it sees every
                # finding, may accept one with a reason, and attests its encounters.
                P.FINDING_READ,
                P.FINDING_OVERRIDE,
                P.ENCOUNTER_ATTEST,
            }
        ),
        Role.PRACTICE_STAFF: frozenset(
            {
                P.PATIENT_LIST,
                P.PATIENT_READ,
                P.CLAIM_LIST,
                P.CLAIM_READ,
                P.BATCH_UPLOAD,
                P.BATCH_READ,
                P.BREAK_GLASS_REQUEST,
                P.FINDING_READ,
                P.ENCOUNTER_ATTEST,
            }
        ),
        Role.PRIVACY_OFFICER: frozenset(
            {
                P.PATIENT_LIST,
                P.PATIENT_READ,
                P.FINDING_READ,
                P.AUDIT_READ,
                P.DISCLOSURES_READ,
                P.BREAK_GLASS_REVIEW,
                # Who holds the practice's PHI, under which BAA: the privacy officer's business.
                P.ENGAGEMENT_READ,
            }
        ),
        Role.VENDOR_ADMIN: frozenset(
            {
                P.USER_MANAGE,
                P.TOKEN_MANAGE,
                P.QUESTIONNAIRE_ANSWER,
                P.ENGAGEMENT_READ,
                P.SIGNING_KEY_MANAGE,
            }
        ),
        Role.BILLER: frozenset(
            {
                P.PATIENT_LIST,
                P.PATIENT_READ,
                P.CLAIM_LIST,
                P.CLAIM_READ,
                P.BATCH_READ,
                P.BREAK_GLASS_REQUEST,
                P.FINDING_READ,
                # Billers send the claims out; only ``ready`` ones ever leave.
                P.CLAIM_SUBMIT,
            }
        ),
        Role.CODER: frozenset(
            {
                P.PATIENT_LIST,
                P.PATIENT_READ,
                P.CLAIM_LIST,
                P.CLAIM_READ,
                P.BREAK_GLASS_REQUEST,
                P.FINDING_READ,
                # Coding edits are a coder's call: a documented distinct service
                # (modifier 59) or a supported level; the override is audited.
                P.FINDING_OVERRIDE,
            }
        ),
        Role.OPERATOR: frozenset({P.KEY_MANAGE, P.ORGANISATION_MANAGE, P.TABLE_MANAGE}),
        Role.AUDITOR: frozenset({P.AUDIT_READ}),
    }
)

# Field views, per role and record kind. A field absent here is never shown
# to that role. SSN is in no view: billing under MBI and member ids never
# needs it.
_IDENTITY = frozenset({"id", "mrn", "given_name", "family_name", "birth_date", "sex"})
_CONTACT = frozenset({"address", "phone"})
_COVERAGE = frozenset(
    {"payer_name", "payer_id", "member_id", "group_number", "relationship", "priority"}
)
_CLAIM_CODES = frozenset(
    {
        "id",
        "patient_id",
        "status",
        "service_from",
        "service_through",
        "place_of_service",
        "diagnoses",
        "lines.procedure_code",
        "lines.modifiers",
        "lines.units",
        "lines.service_date",
        "lines.diagnosis_pointers",
        "rendering_npi",
        "billing_npi",
    }
)
_CLAIM_MONEY = frozenset({"total_charge_cents", "lines.charge_cents", "patient_account"})
_CLAIM_STATUS = frozenset({"id", "status", "service_from", "service_through", "total_charge_cents"})

VIEWS: Mapping[Role, Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        Role.PRACTICE_ADMIN: {"claim": _CLAIM_STATUS},
        Role.PRACTICE_STAFF: {
            "patient": _IDENTITY | _CONTACT | {"deceased_on", "coverages"},
            "coverage": _COVERAGE,
            "claim": _CLAIM_CODES | _CLAIM_MONEY,
        },
        Role.PRIVACY_OFFICER: {"patient": _IDENTITY},
        Role.BILLER: {
            "patient": _IDENTITY | _CONTACT | {"coverages"},
            "coverage": _COVERAGE,
            "claim": _CLAIM_CODES | _CLAIM_MONEY,
        },
        Role.CODER: {
            "patient": _IDENTITY,
            "claim": _CLAIM_CODES | {"documentation"},
        },
        Role.VENDOR_ADMIN: {},
        Role.OPERATOR: {},
        Role.AUDITOR: {},
    }
)


def permissions_of(roles: frozenset[Role] | set[Role]) -> frozenset[Permission]:
    return frozenset().union(*(ROLE_PERMISSIONS[role] for role in roles))


def view_of(roles: frozenset[Role] | set[Role], kind: str) -> frozenset[str]:
    """The union of the roles' views of ``kind`` records."""
    return frozenset().union(*(VIEWS[role].get(kind, frozenset()) for role in roles))


def needs_mfa(roles: frozenset[Role] | set[Role]) -> bool:
    """Every role that can read PHI, and every administrative role, needs a second factor."""
    return any(
        ROLE_PERMISSIONS[role]
        & (
            PHI_PERMISSIONS
            | {
                P.USER_MANAGE,
                P.KEY_MANAGE,
                P.TOKEN_MANAGE,
                P.ENGAGEMENT_MANAGE,
                P.ORGANISATION_MANAGE,
                P.AUDIT_READ,
                P.DISCLOSURES_READ,
            }
        )
        for role in roles
    )
