"""Formats: bytes or streams in, typed records out.

Pure code: it knows nothing of databases, users, keys or configuration, and
imports only the standard library, ``claimbridge.errors`` and
``claimbridge.types``. Later issues add ``x12/`` (837P, 837I, 835, 999),
``fhir.py`` and ``csv.py``. Every error carries the position it was found at.
"""
