"""Audit: the append-only, tamper-evident trail of every access.

Events are written in the same transaction as the access they record and
fail closed: if the event cannot be written, the access fails.
"""
