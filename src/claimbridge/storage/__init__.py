"""Storage: tables, queries, migrations and the blob folder.

- ``db.py``        engines and sessions; the only place SQLite and PostgreSQL differ
- ``base.py``      the declarative base, random ids and shared column types
- ``orgs.py``      organisations, users and engagements
- ``clinical.py``  patients, coverages and encounters (PHI columns hold ciphertext)
- ``claims.py``    claims and service lines
- ``batches.py``   batches received from practices
- ``audit.py``     the audit event table
- ``keys.py``      wrapped tenant KEKs and data keys (never a key in the clear)
- ``migrate.py``   Alembic upgrade to head and the schema check
- ``blobs.py``     the blob folder
- ``migrations/``  the Alembic history (one head)

Only this package maps tables and writes queries.
"""
