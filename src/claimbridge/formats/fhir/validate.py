"""The structure check: each resource a claim uses, against the FHIR R4 model.

``fhir.resources`` (its ``R4B`` models; release 4.3.0 left Claim, Patient,
Coverage, Encounter, Organization, Practitioner, PractitionerRole and
RelatedPerson as they were in R4 4.0.1) checks what this reader does not
read itself: that every element is one the resource defines (a misspelt
``servicedate`` is refused, not ignored), that required elements are
present, that primitives have their FHIR form (dates, codes, ids) and that
a choice such as ``serviced[x]`` is given once. Contained resources are
checked with the resource that holds them.

Only the resources a claim uses are checked, each once however many claims
use it; other resources of the Bundle (observations, conditions) are left
alone. pydantic's own messages are not passed on: some quote the input. An
error here keeps the path pydantic found and the kind of fault only.

Why this library, and what it costs: the issue names it; it works with the
project's pydantic 2; its R4B models cover the R4 resources read here
element for element; and a hand-written check of the same breadth would be
a second FHIR model to keep. It is lax where claimbridge must not be (it
takes ``"1"`` for an integer and does not check code values against their
value sets), so ``elements`` checks again what is read. It is the slow part
of reading: about two thirds of ``read_bundle``'s time, some 5,000 resources
a CPU-second on the project's machine (``bench/bench_fhir.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.claim import Claim
from fhir.resources.R4B.coverage import Coverage
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.relatedperson import RelatedPerson
from fhir.resources.R4B.resource import Resource
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError

from claimbridge.formats.fhir.elements import JSONObject
from claimbridge.formats.fhir.errors import ElementInvalid, ElementMissing, FhirError

__all__ = ["MAX_ERRORS_PER_RESOURCE", "MODELS", "check_bundle_shell", "check_resource"]

MODELS: Mapping[str, type[FHIRAbstractModel]] = MappingProxyType(
    {
        "Claim": Claim,
        "Coverage": Coverage,
        "Encounter": Encounter,
        "Organization": Organization,
        "Patient": Patient,
        "Practitioner": Practitioner,
        "PractitionerRole": PractitionerRole,
        "RelatedPerson": RelatedPerson,
    }
)

# What an element's name looks like: lower camel case, or ``_`` before a primitive's.
_ELEMENT = re.compile(r"_?[a-z][A-Za-z0-9]{0,63}")
# pydantic's own, and the models' check of required primitive elements.
_MISSING = frozenset({"missing", "model_field_validation.missing"})
# pydantic's kinds of fault, said without pydantic's words (which may quote).
_FORM = "The element does not have the form FHIR R4 gives it."
_FAULTS = {
    "string_type": "The element must be a JSON string.",
    "int_type": "The element must be a whole JSON number.",
    "int_parsing": "The element must be a whole JSON number.",
    "int_from_float": "The element must be a whole JSON number.",
    "bool_type": "The element must be true or false.",
    "bool_parsing": "The element must be true or false.",
    "list_type": "The element must be a JSON array.",
    "model_type": "The element must be a JSON object.",
    "dict_type": "The element must be a JSON object.",
    "model_attributes_type": "The element must be a JSON object.",
}
# A resource wrong throughout would otherwise report every element of it.
MAX_ERRORS_PER_RESOURCE = 20


def check_resource(resource: JSONObject, path: str) -> list[FhirError]:
    """The faults of ``resource`` (one of ``MODELS``) against its R4 model; none when sound."""
    model = MODELS[resource["resourceType"]]
    return _check_contained_types(resource, path) or _validate(model, resource, path)


def check_bundle_shell(bundle: JSONObject) -> list[FhirError]:
    """The faults of the Bundle's own elements; its entries are checked one by one elsewhere."""
    shell = {name: value for name, value in bundle.items() if name != "entry"}
    return _validate(Bundle, shell, "Bundle")


def _validate(model: type[FHIRAbstractModel], data: JSONObject, path: str) -> list[FhirError]:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return [
            _translate(error, path)
            for error in exc.errors(include_url=False, include_context=False, include_input=False)
        ][:MAX_ERRORS_PER_RESOURCE]
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        # The models raise these on a few inputs pydantic does not catch (an
        # unknown resource type deep in a union, for one); the resource is at
        # fault either way, and nothing of it is quoted.
        return [ElementInvalid("The resource is not a valid FHIR R4 resource.", path=path)]
    return []


def _check_contained_types(resource: JSONObject, path: str) -> list[FhirError]:
    contained = resource.get("contained")
    if not isinstance(contained, list):
        return []
    errors: list[FhirError] = []
    for index, item in enumerate(contained):
        kind = item.get("resourceType") if isinstance(item, dict) else None
        if not isinstance(kind, str) or not _is_resource_type(kind):
            errors.append(
                ElementInvalid(
                    "A contained resource needs the resourceType of a FHIR R4 resource.",
                    path=f"{path}.contained[{index}].resourceType",
                )
            )
    return errors


def _is_resource_type(name: str) -> bool:
    if not name.isascii() or not name.isalpha():
        return False
    try:
        model = get_fhir_model_class(name)
    except (KeyError, ValueError):
        return False
    return issubclass(model, Resource)


def _translate(error: Any, path: str) -> FhirError:
    where = path + _location(error["loc"])
    kind = error["type"]
    if kind in _MISSING:
        return ElementMissing("A required element is missing.", path=where)
    if kind == "extra_forbidden":
        return ElementInvalid("The element is not defined by FHIR R4 here.", path=where)
    return ElementInvalid(_FAULTS.get(kind, _FORM), path=where)


def _location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part == "resource_type":
            parts.append(".resourceType")
        elif "[" in part or "(" in part:
            continue  # a validator or a union branch, not an element
        else:
            parts.append(f".{_element_name(part)}")
    return "".join(parts)


def _element_name(part: str) -> str:
    # The models name a primitive's extension ``birthDate__ext``; the JSON
    # calls it ``_birthDate``.
    name = f"_{part[: -len('__ext')]}" if part.endswith("__ext") else part
    if _ELEMENT.fullmatch(name):
        return name
    # A key no FHIR element has, and no element could: the key may be
    # anything, a name included, so it is described rather than repeated.
    return "(unknown element)"
