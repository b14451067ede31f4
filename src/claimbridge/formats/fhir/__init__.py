"""FHIR R4: Bundles of professional claims in, the 837P's typed records out.

A practice's EHR exports a FHIR R4 Bundle of Claims with the Patients,
Coverages, Encounters and providers they reference; ``read_bundle`` reads
it into the same ``ProfessionalClaim`` records ``read_837p`` yields, so a
Bundle is ingested like an 837P. ``docs/fhir.md`` says what is read, how
it maps to 837P fields and what is refused. The map of the package:

* ``bundle``    ``read_bundle`` and ``FhirReading``: the driver, one
                ``ClaimResult`` per Claim entry
* ``body``      the body read within a size bound, UTF-8, JSON, nesting bound
* ``validate``  each resource a claim uses against its FHIR R4 model
                (``fhir.resources``, R4B models: see its docstring)
* ``resolve``   the Bundle's entries and the references between them
* ``claims``    one Claim to one ``ProfessionalClaim``: kind, ids, diagnoses, total
* ``coverage``  the focal insurance: subscriber, payer, patient
* ``parties``   patients, practitioners, organisations as ``Party`` records
* ``lines``     one ``Claim.item`` to one ``ServiceLine``
* ``elements``  typed, path-aware access to a resource's JSON
* ``errors``    the error tree; every error names its JSON path
* ``synthetic`` synthetic Bundles of professional claims, for demos and benchmarks

Only ``FhirError`` is raised for bad input, and no message quotes a value.
"""

from __future__ import annotations

from claimbridge.formats.fhir.body import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH
from claimbridge.formats.fhir.bundle import BUNDLE_TYPES, ClaimResult, FhirReading, read_bundle
from claimbridge.formats.fhir.errors import (
    BundleTooLarge,
    BundleUnreadable,
    CodeSystemUnsupported,
    DuplicateEntry,
    ElementInvalid,
    ElementMissing,
    FhirError,
    NestingTooDeep,
    NotABundle,
    NotJSON,
    NotUTF8,
    ReferenceAmbiguous,
    ReferenceUnresolved,
    ResourceTypeUnexpected,
    TotalMismatch,
)

__all__ = [
    "BUNDLE_TYPES",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "BundleTooLarge",
    "BundleUnreadable",
    "ClaimResult",
    "CodeSystemUnsupported",
    "DuplicateEntry",
    "ElementInvalid",
    "ElementMissing",
    "FhirError",
    "FhirReading",
    "NestingTooDeep",
    "NotABundle",
    "NotJSON",
    "NotUTF8",
    "ReferenceAmbiguous",
    "ReferenceUnresolved",
    "ResourceTypeUnexpected",
    "TotalMismatch",
    "read_bundle",
]
