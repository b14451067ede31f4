"""The one door to ``cryptography.hazmat``.

Nothing else in claimbridge imports a primitive. The recipes beside this
module (``envelope``, ``streams``, ``blind``, ``signing``, ``providers``)
decide formats, nonces and key separation; this module only names the
algorithms we chose and turns the library's exceptions into ours, so that
a change of library or backend touches one file.

Every function is thin on purpose: no formats, no policy. Misuse
resistance lives in the recipes, which is why this module is private.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from claimbridge.crypto.errors import DecryptionFailed, SignatureInvalid

AES_KEY_SIZE = 32
"""AES-256 only: one key size, so no caller ever picks a weaker one."""

GCM_NONCE_SIZE = 12
GCM_TAG_SIZE = 16
ED25519_PUBLIC_KEY_SIZE = 32
ED25519_SIGNATURE_SIZE = 64


random_bytes = os.urandom
"""``random_bytes(size)``: bytes from the operating system's CSPRNG."""


TagMismatch = InvalidTag
"""What ``AEAD.decrypt_raw`` raises; a recipe that calls it turns it into ``DecryptionFailed``."""


class AEAD:
    """AES-256-GCM bound to one key, with a 96-bit nonce and a 128-bit tag.

    Holding the ``AESGCM`` object (and its expanded key schedule) lets the
    hot path of field encryption skip a key setup per value. The caller
    owns nonce uniqueness.
    """

    __slots__ = ("_aesgcm", "decrypt_raw", "encrypt")

    encrypt: Callable[[bytes, bytes, bytes], bytes]
    """``encrypt(nonce, plaintext, associated_data)``: ciphertext, then the tag.

    The library's own bound method: encryption raises nothing we need to
    translate, and a direct call saves a Python frame on every sealed field.
    """

    decrypt_raw: Callable[[bytes, bytes, bytes], bytes]
    """``decrypt`` without the translation: raises ``TagMismatch``.

    Only for the field-decryption hot path, which catches ``TagMismatch``
    itself; everything else calls ``decrypt``.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) != AES_KEY_SIZE:
            raise ValueError("AES-256-GCM needs a 32-byte key")
        self._aesgcm = AESGCM(key)
        self.encrypt = self._aesgcm.encrypt
        self.decrypt_raw = self._aesgcm.decrypt

    def __repr__(self) -> str:
        return "AEAD(AES-256-GCM)"

    def decrypt(self, nonce: bytes, ciphertext: bytes, associated_data: bytes) -> bytes:
        """The plaintext, or ``DecryptionFailed`` if anything was altered."""
        try:
            return self._aesgcm.decrypt(nonce, ciphertext, associated_data)
        except InvalidTag:
            raise DecryptionFailed(detail="authentication tag mismatch") from None


def hkdf_sha256(key_material: bytes, *, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869): extract with ``salt``, expand with ``info``."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(key_material)


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104), through OpenSSL via the standard library."""
    return hmac.digest(key, message, "sha256")


def scrypt(secret: bytes, *, salt: bytes, n: int, r: int, p: int, length: int = 32) -> bytes:
    """scrypt (RFC 7914). Costs ``128 * n * r`` bytes of memory."""
    return Scrypt(salt=salt, length=length, n=n, r=r, p=p).derive(secret)


class Ed25519Signer:
    """An Ed25519 private key (RFC 8032), kept inside the library's object."""

    __slots__ = ("_private",)

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private

    def __repr__(self) -> str:
        return "Ed25519Signer(<private>)"

    @classmethod
    def generate(cls) -> Ed25519Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> Ed25519Signer:
        """The key whose 32-byte RFC 8032 seed is ``seed``."""
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_pem(cls, pem: bytes) -> Ed25519Signer:
        """The key in a PKCS#8 PEM file (``-----BEGIN PRIVATE KEY-----``), unencrypted."""
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise ValueError("not an unencrypted PKCS#8 PEM private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")  # noqa: TRY004 - a bad file, not a bad type
        return cls(key)

    def pem(self) -> bytes:
        """The key as PKCS#8 PEM, which OpenSSL and every TLS library read."""
        return self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def seed(self) -> bytes:
        """The 32-byte RFC 8032 seed: for wrapping under a root key, nothing else."""
        return self._private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def public_key_bytes(self) -> bytes:
        return self._private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Return if ``signature`` is valid; raise ``SignatureInvalid`` otherwise."""
    if len(public_key) != ED25519_PUBLIC_KEY_SIZE:
        raise SignatureInvalid(detail="public key is not 32 bytes")
    if len(signature) != ED25519_SIGNATURE_SIZE:
        raise SignatureInvalid(detail="signature is not 64 bytes")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        raise SignatureInvalid(detail="signature does not verify") from None


def p256_private_key() -> ec.EllipticCurvePrivateKey:
    """A new ECDSA P-256 key, for the self-signed TLS certificate."""
    return ec.generate_private_key(ec.SECP256R1())


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted: the file it goes to is 0600 in a 0700 folder."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


SHA256 = hashes.SHA256
"""The hash for certificate signatures and fingerprints."""
