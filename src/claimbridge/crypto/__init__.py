"""Cryptography recipes: keys, envelope encryption, signatures.

The only package that touches primitives of the ``cryptography`` library,
through one private module, the way ``cryptography.fernet`` sits over
``hazmat``. Everything else asks for a recipe (seal, unseal, sign, verify).

The modules, each pure (no database, no configuration, no clock):

``envelope``
    Field encryption of PHI columns. ``DataKey`` (id, secret, KEK version,
    encryption counter), ``FieldContext`` (tenant, table, column, row),
    ``seal`` and ``unseal``: AES-256-GCM with the context bound as
    associated data, so a value moved to another row does not decrypt.
``streams``
    Files in constant memory: ``encrypt_stream``, ``decrypt_stream`` and
    ``decrypt_to_path``; segmented AES-256-GCM with a per-file HKDF key,
    detecting truncation, reordering, splicing and appended data.
``blind``
    ``blind_index``: a keyed hash of a value for equality search over
    encrypted columns, and ``normalise_name`` for the names we index.
``signing``
    Ed25519: ``SigningKey`` (generate, sign, public key) and ``verify``.
``providers``
    The ``KeyProvider`` protocol: where the root key lives and how it
    wraps other keys. ``providers.local.LocalKeyProvider`` keeps it in a
    passphrase-protected key file; Vault Transit, a cloud KMS or a PKCS#11
    HSM are one more class each.
``keyring``
    The key hierarchy in the database: tenant KEK versions wrapped by the
    provider's root key, data keys wrapped by those, cached unwrapped.
``tls``
    The self-signed server certificate of the embedded default.
``passphrase``
    Files sealed with a passphrase (scrypt, then the segmented AES-GCM of
    ``streams``): what leaves the server for good, like a return package.
``webhooks``
    HMAC-SHA256 signatures on outgoing webhook bodies.
``errors``
    ``DecryptionFailed`` (every decryption failure, whatever the cause),
    ``SignatureInvalid``, ``KeyExhausted``, ``KeyFileError``.
``_primitives``
    Private: the one module that imports ``cryptography.hazmat``.

The key hierarchy (DESIGN.md, security invariant 2): a root key held by a
``KeyProvider`` wraps each tenant's versioned key-encryption keys, which
wrap the ``DataKey``s that seal fields and files. Destroying a tenant's
KEKs makes every value sealed under its data keys unreadable.

Every format written here (envelope, stream, key file, wrapped key, blind
index) is frozen and marked ``IMPORTANT:`` where it is defined.
"""
