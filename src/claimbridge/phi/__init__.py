"""The PHI gateway: the one way to protected health information.

Every read or write of PHI passes here (``gateway.py``; ``records.py`` maps
records to sealed rows), which (1) asks the policy, (2)
writes the audit event, failing closed, and (3) decrypts and projects the
record to the caller's minimum-necessary view. Interfaces and services never
query PHI tables themselves.

``exports.py`` is the one reader of a whole practice in the clear: for
the practice's own return package when an engagement ends, and the probe
that proves, after a crypto-shred, that none of it decrypts any more.
"""
