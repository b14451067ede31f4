"""Audit: the append-only, tamper-evident trail of every access.

Events are written in the same transaction as the access they record and
fail closed: if the event cannot be written, the access fails.

- ``record.py``       writing an event (``record``), the actor, and
                      ``unit_of_work``/``AuditedDenial`` that commit a
                      denial's event before the denial is raised
- ``canonical.py``    the versioned canonical encoding of an event
- ``chain.py``        the hash chain over events and its verification
- ``merkle.py``       the RFC 9162 Merkle tree: roots, inclusion and
                      consistency proofs, a compact range for appending
- ``checkpoints.py``  signed checkpoints a practice can keep, and the
                      standalone verification of what it kept
"""
