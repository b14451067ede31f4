"""Ed25519 signatures (RFC 8032): batches, receipts, audit checkpoints.

A practice signs the batches it sends; the server signs receipts, audit
checkpoints and certificates of destruction, and anyone holding the
32-byte public key checks them without trusting the server.

``verify`` raises ``SignatureInvalid`` or returns nothing: there is no
boolean to forget to check. Ed25519 is deterministic (no nonce to get
wrong) and fixed-size (32-byte public keys, 64-byte signatures).

What is signed is the caller's business: sign a canonical encoding with a
domain label (``b"claimbridge/receipt/v1\\x00" + ...``) so a signature made
for one kind of document can never be replayed as another.
"""

from __future__ import annotations

from typing import NoReturn

from claimbridge.crypto import _primitives

PUBLIC_KEY_SIZE = _primitives.ED25519_PUBLIC_KEY_SIZE
SIGNATURE_SIZE = _primitives.ED25519_SIGNATURE_SIZE


class SigningKey:
    """An Ed25519 private key. Its secret never shows in ``repr``."""

    __slots__ = ("_signer",)

    def __init__(self, signer: _primitives.Ed25519Signer) -> None:
        self._signer = signer

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(_primitives.Ed25519Signer.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        return cls(_primitives.Ed25519Signer.from_seed(seed))

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKey:
        """A key from an unencrypted PKCS#8 PEM file; ``ValueError`` if it is not one."""
        return cls(_primitives.Ed25519Signer.from_pem(pem))

    def private_pem(self) -> bytes:
        """PKCS#8 PEM, for a key file the client keeps (mode 0600, never sent anywhere)."""
        return self._signer.pem()

    def seed_bytes(self) -> bytes:
        """The private seed, only to be wrapped under a root key for storage."""
        return self._signer.seed()

    def __repr__(self) -> str:
        return f"SigningKey(public_key={self.public_key_bytes().hex()})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a SigningKey cannot be pickled or copied")

    def sign(self, message: bytes) -> bytes:
        """The 64-byte signature of ``message``."""
        return self._signer.sign(message)

    def public_key_bytes(self) -> bytes:
        """The 32-byte raw public key, safe to publish."""
        return self._signer.public_key_bytes()


def verify(public_key_bytes: bytes, message: bytes, signature: bytes) -> None:
    """Return if ``signature`` is ``public_key_bytes``' signature of ``message``.

    Raises ``SignatureInvalid`` otherwise, for a bad signature, a wrong
    message, and a malformed key or signature alike.
    """
    _primitives.ed25519_verify(public_key_bytes, message, signature)
