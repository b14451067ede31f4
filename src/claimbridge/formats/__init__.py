"""Formats: bytes or streams in, typed records out.

Pure code: it knows nothing of databases, users, keys or configuration, and
imports only the standard library, ``claimbridge.errors`` and
``claimbridge.types``, with one named exception: ``fhir/`` checks the
structure of FHIR resources with ``fhir.resources`` (its R4B models, on
pydantic), a well-kept library that does that job better than our own code
would. Packages: ``x12/`` (837P, 837I, 835, 999), ``fhir/`` (R4 Bundles
of professional claims, read into the 837P's records) and ``csv/`` (the
CSV charge template of ``docs/csv-charges.md``, one row per service line,
read into the 837P's records too). Every error carries the position it was
found at: segment and element, JSON path, or CSV row and column.
"""
