"""Signatures on outgoing webhook bodies, so a receiver knows they came from this server.

The signature is HMAC-SHA256 under a secret shared with the receiver, over
the Unix time of sending, a dot, and the exact body bytes::

    X-Claimbridge-Timestamp: 1767225600
    X-Claimbridge-Signature: sha256=<hex of HMAC-SHA256(secret, b"1767225600." + body)>

Binding the time lets a receiver refuse a replayed request: it compares
the timestamp to its own clock (within a few minutes), and the signatures
in constant time.

IMPORTANT: receivers implement this exact input and header format; a
change breaks every receiver already deployed.
"""

from __future__ import annotations

from claimbridge.crypto import _primitives

SIGNATURE_HEADER = "X-Claimbridge-Signature"
TIMESTAMP_HEADER = "X-Claimbridge-Timestamp"
MIN_SECRET_BYTES = 16
_SCHEME = "sha256="


def webhook_signature(secret: bytes, *, timestamp: int, body: bytes) -> str:
    """The ``X-Claimbridge-Signature`` value for ``body`` sent at ``timestamp``."""
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"a webhook secret has at least {MIN_SECRET_BYTES} bytes")
    message = str(timestamp).encode("ascii") + b"." + body
    return _SCHEME + _primitives.hmac_sha256(secret, message).hex()
