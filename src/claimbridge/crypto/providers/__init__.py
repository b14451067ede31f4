"""Key providers: where the root key lives and how it wraps other keys.

The key hierarchy of DESIGN.md (security invariant 2) has one root key per
installation. It never leaves its provider: the rest of claimbridge only
asks the provider to *wrap* a key (each tenant's key-encryption keys) and
later to *unwrap* it. Every provider satisfies ``KeyProvider``; swapping
one for another changes where the root key is kept, nothing else.

``context`` is bound to every wrap as authenticated data (associated data
for AES-GCM, the encryption context of a KMS): a wrapped key unwraps only
with the same context, so a tenant's wrapped KEK copied into another
tenant's row does not unwrap. Callers pass a stable, unambiguous encoding,
such as ``b"claimbridge/kek/v1\\x00" + tenant_id + b"\\x00" + version``.
Every unwrap failure (wrong context, altered bytes, another provider's
blob) raises ``DecryptionFailed``.

Modules:

``local``
    ``LocalKeyProvider``: the embedded default. A 256-bit root key sealed
    in a key file under a passphrase (scrypt + AES-256-GCM).
``pkcs11``
    ``PKCS11KeyProvider``: the root key is a non-extractable AES-256 key in
    an HSM (tested with SoftHSM2), used by ``C_Encrypt``/``C_Decrypt`` with
    ``CKM_AES_GCM`` and the context as associated data. A failing token
    raises ``TokenError``, never ``DecryptionFailed``.

More providers are one class each, with no change elsewhere:

- **HashiCorp Vault Transit.** ``provider_id`` is ``"vault-transit:<mount>/<key>"``.
  ``wrap`` calls ``POST /v1/<mount>/encrypt/<key>`` with
  ``plaintext=base64(key)`` and ``context=base64(context)`` (the Transit
  key created with ``derived=true``, so the context is bound), and returns
  the ``vault:v<N>:...`` ciphertext as bytes; ``unwrap`` calls
  ``/decrypt/<key>`` with the same context. Transit's own key versions give
  root rotation (``/rewrap`` re-wraps without exposing the key), and
  ``describe`` reports the address, mount, key name and latest version.
- **A cloud KMS** (AWS KMS, Google Cloud KMS, Azure Key Vault). ``wrap`` is
  ``Encrypt(KeyId, Plaintext=key, EncryptionContext={"claimbridge":
  hex(context)})`` (AWS) or ``encrypt(name, plaintext, additional_authenticated_data=context)``
  (Google); ``unwrap`` is the matching ``Decrypt``. The KMS enforces its
  own access policy and writes its own audit log of every use.
- **PKCS#11** (an HSM, tested with SoftHSM2): ``C_WrapKey``/``C_UnwrapKey``
  with ``CKM_AES_GCM`` and the context as the GCM AAD, or ``C_Encrypt`` on
  the key bytes where the token does not wrap.

A network provider maps its transport failures to ``StorageError`` (try
again later) and its "cannot decrypt" answers to ``DecryptionFailed``, so
callers handle every provider alike.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class KeyProvider(Protocol):
    """Holds a root key and wraps other keys under it."""

    @property
    def provider_id(self) -> str:
        """Stable, non-secret name of this root key, stored beside what it wrapped."""
        ...

    def wrap(self, key: bytes, *, context: bytes) -> bytes:
        """Encrypt ``key`` under the root key, bound to ``context``."""
        ...

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        """The key ``wrap`` was given; ``DecryptionFailed`` on any mismatch."""
        ...

    def describe(self) -> dict[str, object]:
        """Facts for operators and audit events; never key material."""
        ...
