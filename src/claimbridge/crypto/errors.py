"""The errors of the crypto package.

Each is a ``ClaimbridgeError`` with a public message that tells a caller
what happened in words that help no attacker: no key material, no key
ids, no hint of which check failed. ``detail`` may say more, for logs.

::

    ClaimbridgeError
    └── CryptoError              a cryptographic recipe refused to go on
        ├── DecryptionFailed     every failure to decrypt or unwrap, whatever the cause
        ├── SignatureInvalid     a signature does not verify
        ├── KeyExhausted         a key reached its encryption limit; roll a fresh one
        ├── KeyFileError         a key file is missing, damaged, exposed or locked
        └── TokenError           a PKCS#11 token, its login or its root key cannot be used

``DecryptionFailed`` is deliberately one class with one message for a
short blob, an unknown version, an unknown key and a tag mismatch alike,
so that a caller who can submit ciphertexts learns nothing from the
failure (the lesson of padding oracles; ``cryptography.fernet.InvalidToken``
makes the same choice).
"""

from __future__ import annotations

from claimbridge.errors import ClaimbridgeError


class CryptoError(ClaimbridgeError):
    code = "crypto_error"
    public_message = "A cryptographic operation failed."


class DecryptionFailed(CryptoError):
    code = "decryption_failed"
    public_message = "The data could not be decrypted."

    def __init__(self, *, detail: str | None = None) -> None:
        # No message parameter: every decryption failure reads the same.
        super().__init__(detail=detail)


class SignatureInvalid(CryptoError):
    code = "signature_invalid"
    public_message = "The signature is not valid."

    def __init__(self, *, detail: str | None = None) -> None:
        super().__init__(detail=detail)


class KeyExhausted(CryptoError):
    code = "key_exhausted"
    public_message = "The key has reached its encryption limit; a fresh key is needed."


class KeyFileError(CryptoError):
    code = "key_file_error"
    public_message = "The key file could not be used."


class TokenError(CryptoError):
    code = "token_error"
    public_message = "The hardware security module could not be used."


class RootKeyMissing(TokenError):
    """The token holds no key under the configured label (``init`` then creates one)."""

    code = "root_key_missing"
