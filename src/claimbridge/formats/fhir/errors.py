"""The FHIR error tree: every error names the JSON path it was found at.

A path reads like FHIRPath from the Bundle down, with zero-based list
indexes: ``Bundle.entry[3].resource.item[0].quantity``. It is the error's
``where`` (and its ``path``), so ``str(error)`` is the message followed by
``(at <path>)``.

Messages are public and never quote values from the input, which are PHI
(names, member ids, birth dates) or may be (a shifted field can put a name
where a code belongs); they name the element and what is wrong with it.
Resource types, element names and the code systems this reader accepts are
ours, not the input's, and may appear.

::

    FhirError
    ├── BundleUnreadable          the body cannot be read as a Bundle at all (raised)
    │   ├── BundleTooLarge        over the caller's size limit (also a PayloadTooLarge)
    │   ├── NotUTF8               not UTF-8 text
    │   ├── NotJSON               not one JSON value
    │   ├── NestingTooDeep        arrays and objects nested past the bound
    │   └── NotABundle            resourceType is not Bundle, or a type not read
    ├── ElementMissing            a required element is absent
    ├── ElementInvalid            an element has the wrong type, form or code
    ├── CodeSystemUnsupported     a code from a system this reader does not read
    ├── ResourceTypeUnexpected    a reference points at the wrong kind of resource
    ├── ReferenceUnresolved       a reference finds no resource in the Bundle
    │   └── ReferenceAmbiguous    ... or more than one
    ├── DuplicateEntry            two entries share a fullUrl or a type and id
    └── TotalMismatch             Claim.total is not the sum of the item nets
"""

from __future__ import annotations

from claimbridge.errors import InputError, PayloadTooLarge

__all__ = [
    "BundleTooLarge",
    "BundleUnreadable",
    "CodeSystemUnsupported",
    "DuplicateEntry",
    "ElementInvalid",
    "ElementMissing",
    "FhirError",
    "NestingTooDeep",
    "NotABundle",
    "NotJSON",
    "NotUTF8",
    "ReferenceAmbiguous",
    "ReferenceUnresolved",
    "ResourceTypeUnexpected",
    "TotalMismatch",
]


class FhirError(InputError):
    """A FHIR Bundle, or part of one, is not acceptable; ``path`` says where."""

    code = "fhir_invalid"
    public_message = "The FHIR Bundle is not valid."

    def __init__(self, message: str | None = None, *, path: str, detail: str | None = None):
        super().__init__(message, where=path, detail=detail)
        self.path = path


class BundleUnreadable(FhirError):
    code = "fhir_bundle_unreadable"
    public_message = "The body cannot be read as a FHIR Bundle."


class BundleTooLarge(BundleUnreadable, PayloadTooLarge):
    code = "fhir_bundle_too_large"
    public_message = "The FHIR Bundle is larger than allowed."


class NotUTF8(BundleUnreadable):
    code = "fhir_not_utf8"
    public_message = "A FHIR JSON body must be UTF-8 text."


class NotJSON(BundleUnreadable):
    code = "fhir_not_json"
    public_message = "The body is not a JSON document."


class NestingTooDeep(BundleUnreadable):
    code = "fhir_nesting_too_deep"
    public_message = "The JSON document nests arrays and objects too deeply."


class NotABundle(BundleUnreadable):
    code = "fhir_not_a_bundle"
    public_message = "The JSON document is not a FHIR Bundle of a type this reader reads."


class ElementMissing(FhirError):
    code = "fhir_element_missing"
    public_message = "A required element is missing."


class ElementInvalid(FhirError):
    code = "fhir_element_invalid"
    public_message = "An element does not have a valid value."


class CodeSystemUnsupported(FhirError):
    code = "fhir_code_system_unsupported"
    public_message = "No coding is from a code system this reader reads."


class ResourceTypeUnexpected(FhirError):
    code = "fhir_resource_type_unexpected"
    public_message = "A reference points at a resource of the wrong type."


class ReferenceUnresolved(FhirError):
    code = "fhir_reference_unresolved"
    public_message = "A reference does not resolve to a resource in the Bundle."


class ReferenceAmbiguous(ReferenceUnresolved):
    code = "fhir_reference_ambiguous"
    public_message = "A reference resolves to more than one resource in the Bundle."


class DuplicateEntry(FhirError):
    code = "fhir_duplicate_entry"
    public_message = "Two entries of the Bundle share a fullUrl or a resource type and id."


class TotalMismatch(FhirError):
    code = "fhir_total_mismatch"
    public_message = "Claim.total is not the sum of the item nets."
