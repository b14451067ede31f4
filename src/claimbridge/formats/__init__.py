"""Formats: bytes or streams in, typed records out.

Pure code: it knows nothing of databases, users, keys or configuration, and
imports only the standard library, ``claimbridge.errors`` and
``claimbridge.types``, with one named exception: ``fhir/`` checks the
structure of FHIR resources with ``fhir.resources`` (its R4B models, on
pydantic), a well-kept library that does that job better than our own code
would. Packages: ``x12/`` (837P, 837I, 835, 999), ``fhir/`` (R4 Bundles
of professional claims, read into the 837P's records), ``csv/`` (the
CSV charge template of ``docs/csv-charges.md``, one row per service line,
read into the 837P's records too) and ``cms/`` (the reference tables CMS
and OIG publish: NCCI PTP and MUE edits, the LEIE exclusion list). Every
error carries the position it was found at: segment and element, JSON
path, or CSV (or reference table) row and column.
"""
