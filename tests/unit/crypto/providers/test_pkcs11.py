"""The PKCS#11 key provider against a real SoftHSM2 token.

Each test makes its own root key (a fresh label) in the run's one token;
see ``tests.softhsm`` for why the token is shared.
"""

from __future__ import annotations

import base64
import os
import pickle
import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pkcs11
import pytest
from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11.exceptions import AttributeSensitive
from pkcs11.types import Session

from claimbridge.crypto.errors import DecryptionFailed, TokenError
from claimbridge.crypto.providers import KeyProvider
from claimbridge.crypto.providers.local import MIN_SCRYPT_N, LocalKeyProvider
from claimbridge.crypto.providers.pkcs11 import PKCS11KeyProvider
from tests.softhsm import SoftHSMToken

CONTEXT = b"claimbridge/kek/v1\x00tenant-a\x00" + (1).to_bytes(4, "big")
OTHER_CONTEXT = b"claimbridge/kek/v1\x00tenant-b\x00" + (1).to_bytes(4, "big")
WRAPPED_SIZE = 1 + 12 + 32 + 16


@pytest.fixture
def key_label() -> str:
    return f"root-{secrets.token_hex(4)}"


@pytest.fixture
def provider(softhsm: SoftHSMToken, key_label: str) -> Iterator[PKCS11KeyProvider]:
    with PKCS11KeyProvider.create_key(
        softhsm.module_path, token_label=softhsm.token_label, pin=softhsm.pin, key_label=key_label
    ) as created:
        yield created


def open_provider(softhsm: SoftHSMToken, key_label: str, **changes: str) -> PKCS11KeyProvider:
    arguments = {"token_label": softhsm.token_label, "pin": softhsm.pin, "key_label": key_label}
    module_path = changes.pop("module_path", softhsm.module_path)
    return PKCS11KeyProvider.open(module_path, **{**arguments, **changes})


@contextmanager
def token_session(softhsm: SoftHSMToken, *, rw: bool = False) -> Iterator[Session]:
    """A session of our own on the token, without a PIN: it sees private
    objects only while some provider keeps the process logged in."""
    lib = pkcs11.lib(os.path.realpath(softhsm.module_path))
    with lib.get_token(token_label=softhsm.token_label).open(rw=rw) as session:
        yield session


def flip_bit(data: bytes, bit: int) -> bytes:
    changed = bytearray(data)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def test_unwrap_returns_what_wrap_was_given(provider: PKCS11KeyProvider) -> None:
    kek = os.urandom(32)
    wrapped = provider.wrap(kek, context=CONTEXT)
    assert provider.unwrap(wrapped, context=CONTEXT) == kek


def test_wrapped_key_has_the_documented_layout(provider: PKCS11KeyProvider) -> None:
    kek = os.urandom(32)
    first, second = provider.wrap(kek, context=CONTEXT), provider.wrap(kek, context=CONTEXT)
    assert len(first) == WRAPPED_SIZE
    assert first[0] == 0x01
    assert first[1:13] != second[1:13], "every wrap takes a fresh IV"
    assert kek not in first


def test_wrap_accepts_16_to_64_byte_keys(provider: PKCS11KeyProvider) -> None:
    for size in (16, 64):
        key = os.urandom(size)
        assert provider.unwrap(provider.wrap(key, context=CONTEXT), context=CONTEXT) == key
    for size in (0, 15, 65):
        with pytest.raises(ValueError, match="16 to 64 bytes"):
            provider.wrap(os.urandom(size), context=CONTEXT)


def test_provider_satisfies_the_protocol(
    provider: PKCS11KeyProvider, softhsm: SoftHSMToken, key_label: str
) -> None:
    as_protocol: KeyProvider = provider
    assert isinstance(as_protocol, KeyProvider)
    assert provider.provider_id == f"pkcs11:{softhsm.token_label}/{key_label}"


def test_unwrap_with_another_context_fails(provider: PKCS11KeyProvider) -> None:
    wrapped = provider.wrap(os.urandom(32), context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        provider.unwrap(wrapped, context=OTHER_CONTEXT)
    with pytest.raises(DecryptionFailed):
        provider.unwrap(wrapped, context=b"")


def test_unwrap_fails_on_any_single_bit_flip(provider: PKCS11KeyProvider) -> None:
    wrapped = provider.wrap(os.urandom(32), context=CONTEXT)
    for bit in range(len(wrapped) * 8):
        with pytest.raises(DecryptionFailed):
            provider.unwrap(flip_bit(wrapped, bit), context=CONTEXT)


def test_unwrap_fails_on_wrong_length_or_version(provider: PKCS11KeyProvider) -> None:
    wrapped = provider.wrap(os.urandom(32), context=CONTEXT)
    for altered in (
        b"",
        wrapped[:1],
        wrapped[:-1],
        wrapped[: 1 + 12 + 16 + 15],
        wrapped + b"\x00",
        b"\x02" + wrapped[1:],
        b"\x00" + wrapped[1:],
        os.urandom(200),
    ):
        with pytest.raises(DecryptionFailed) as failure:
            provider.unwrap(altered, context=CONTEXT)
        assert str(failure.value) == "The data could not be decrypted."


def test_unwrap_fails_for_a_key_wrapped_under_another_root_key(
    provider: PKCS11KeyProvider, softhsm: SoftHSMToken
) -> None:
    wrapped = provider.wrap(os.urandom(32), context=CONTEXT)
    with PKCS11KeyProvider.create_key(
        softhsm.module_path,
        token_label=softhsm.token_label,
        pin=softhsm.pin,
        key_label=f"other-{secrets.token_hex(4)}",
    ) as other:
        with pytest.raises(DecryptionFailed):
            other.unwrap(wrapped, context=CONTEXT)


def test_unwrap_fails_for_a_local_provider_wrap(
    provider: PKCS11KeyProvider, tmp_path: Path
) -> None:
    # Same version byte and layout as the local provider's: only the key
    # and the associated data tell them apart, and that must be enough.
    local = LocalKeyProvider.create(tmp_path / "root.key", "passphrase", scrypt_n=MIN_SCRYPT_N)
    wrapped = local.wrap(os.urandom(32), context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        provider.unwrap(wrapped, context=CONTEXT)


def test_open_refuses_a_wrong_pin_without_showing_it(
    provider: PKCS11KeyProvider, softhsm: SoftHSMToken, key_label: str
) -> None:
    wrapped = provider.wrap(os.urandom(32), context=CONTEXT)
    provider.close()
    wrong = f"wrong-{secrets.token_hex(4)}"
    with pytest.raises(TokenError, match=r"PIN .* is wrong") as failure:
        open_provider(softhsm, key_label, pin=wrong)
    shown = f"{failure.value} {failure.value.detail} {failure.value!r}"
    assert softhsm.pin not in shown and wrong not in shown
    assert failure.value.__cause__ is None
    # The token did not lock us out: the right PIN still opens it.
    with open_provider(softhsm, key_label) as reopened:
        assert reopened.unwrap(wrapped, context=CONTEXT)


def test_open_refuses_a_wrong_pin_while_the_token_is_logged_in(
    provider: PKCS11KeyProvider, softhsm: SoftHSMToken, key_label: str
) -> None:
    # PKCS#11 would answer "already logged in" whatever the PIN; the
    # provider must still check it.
    wrong = f"wrong-{secrets.token_hex(4)}"
    with pytest.raises(TokenError, match=r"PIN .* is wrong") as failure:
        open_provider(softhsm, key_label, pin=wrong)
    assert wrong not in str(failure.value) and softhsm.pin not in str(failure.value)
    assert provider.unwrap(provider.wrap(b"k" * 32, context=CONTEXT), context=CONTEXT)


def test_open_refuses_an_empty_pin(softhsm: SoftHSMToken, key_label: str) -> None:
    with pytest.raises(TokenError, match="non-empty PIN"):
        open_provider(softhsm, key_label, pin="")


def test_open_refuses_empty_labels(softhsm: SoftHSMToken, key_label: str) -> None:
    with pytest.raises(TokenError, match="needs a token label and a key label"):
        open_provider(softhsm, "")
    with pytest.raises(TokenError, match="needs a token label and a key label"):
        open_provider(softhsm, key_label, token_label="")


def test_open_refuses_when_other_code_holds_the_login(
    softhsm: SoftHSMToken, key_label: str
) -> None:
    # Logged in behind the provider's back, the token cannot check a PIN.
    lib = pkcs11.lib(os.path.realpath(softhsm.module_path))
    with lib.get_token(token_label=softhsm.token_label).open(user_pin=softhsm.pin):
        with pytest.raises(TokenError, match="already logged in by other code"):
            open_provider(softhsm, key_label)


def test_open_refuses_a_missing_key_label(softhsm: SoftHSMToken) -> None:
    with pytest.raises(TokenError, match="has no secret key labelled 'no-such-key'"):
        open_provider(softhsm, "no-such-key")


def test_open_refuses_a_missing_token(softhsm: SoftHSMToken, key_label: str) -> None:
    with pytest.raises(TokenError, match="has no token 'no-such-token'") as failure:
        open_provider(softhsm, key_label, token_label="no-such-token")
    assert softhsm.pin not in str(failure.value)


def test_open_refuses_a_missing_or_foreign_module(
    softhsm: SoftHSMToken, key_label: str, tmp_path: Path
) -> None:
    with pytest.raises(TokenError, match=r"module .*libmissing\.so does not exist"):
        open_provider(softhsm, key_label, module_path=str(tmp_path / "libmissing.so"))
    not_a_library = tmp_path / "libfake.so"
    not_a_library.write_bytes(b"not a shared library")
    with pytest.raises(TokenError, match=r"module .*libfake\.so could not be loaded"):
        open_provider(softhsm, key_label, module_path=str(not_a_library))


def test_create_key_refuses_a_label_in_use(
    provider: PKCS11KeyProvider, softhsm: SoftHSMToken, key_label: str
) -> None:
    wrapped = provider.wrap(os.urandom(32), context=CONTEXT)
    with pytest.raises(TokenError, match="already has an object labelled"):
        PKCS11KeyProvider.create_key(
            softhsm.module_path,
            token_label=softhsm.token_label,
            pin=softhsm.pin,
            key_label=key_label,
        )
    with token_session(softhsm) as session:
        assert len(list(session.get_objects({Attribute.LABEL: key_label}))) == 1
    with open_provider(softhsm, key_label) as reopened:
        assert reopened.unwrap(wrapped, context=CONTEXT)


def test_root_key_is_sensitive_and_never_extractable(
    provider: PKCS11KeyProvider, softhsm: SoftHSMToken, key_label: str
) -> None:
    with token_session(softhsm) as session:
        key = session.get_key(ObjectClass.SECRET_KEY, label=key_label)
        attributes = key.get_attributes(
            [
                Attribute.KEY_TYPE,
                Attribute.VALUE_LEN,
                Attribute.TOKEN,
                Attribute.PRIVATE,
                Attribute.SENSITIVE,
                Attribute.ALWAYS_SENSITIVE,
                Attribute.EXTRACTABLE,
                Attribute.NEVER_EXTRACTABLE,
                Attribute.MODIFIABLE,
                Attribute.WRAP,
                Attribute.UNWRAP,
            ]
        )
        with pytest.raises(AttributeSensitive):
            key[Attribute.VALUE]
    assert attributes == {
        Attribute.KEY_TYPE: KeyType.AES,
        Attribute.VALUE_LEN: 32,
        Attribute.TOKEN: True,
        Attribute.PRIVATE: True,
        Attribute.SENSITIVE: True,
        Attribute.ALWAYS_SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.NEVER_EXTRACTABLE: True,
        Attribute.MODIFIABLE: False,
        Attribute.WRAP: False,
        Attribute.UNWRAP: False,
    }


def test_open_refuses_an_extractable_key(
    provider: PKCS11KeyProvider, softhsm: SoftHSMToken
) -> None:
    label = f"exportable-{secrets.token_hex(4)}"
    with token_session(softhsm, rw=True) as session:
        session.generate_key(
            KeyType.AES,
            256,
            label=label,
            store=True,
            template={Attribute.EXTRACTABLE: True, Attribute.SENSITIVE: False},
        )
    with pytest.raises(TokenError, match="not a sensitive, non-extractable AES-256") as failure:
        open_provider(softhsm, label)
    assert failure.value.detail is not None
    assert "SENSITIVE" in failure.value.detail and "EXTRACTABLE" in failure.value.detail


def test_open_refuses_an_aes_128_key(provider: PKCS11KeyProvider, softhsm: SoftHSMToken) -> None:
    label = f"short-{secrets.token_hex(4)}"
    with token_session(softhsm, rw=True) as session:
        session.generate_key(
            KeyType.AES, 128, label=label, store=True, template={Attribute.EXTRACTABLE: False}
        )
    with pytest.raises(TokenError, match="AES-256") as failure:
        open_provider(softhsm, label)
    assert failure.value.detail is not None and "VALUE_LEN" in failure.value.detail


def test_repr_and_describe_show_no_secrets(
    provider: PKCS11KeyProvider, softhsm: SoftHSMToken, key_label: str
) -> None:
    kek = os.urandom(32)
    provider.wrap(kek, context=CONTEXT)
    description = provider.describe()
    assert description["module"] == os.path.realpath(softhsm.module_path)
    assert description["token_label"] == softhsm.token_label
    assert description["key_label"] == key_label
    assert description["mechanism"] == "CKM_AES_GCM"
    assert description["provider_id"] == provider.provider_id
    shown = f"{provider!r} {provider} {description!r}"
    for secret in (softhsm.pin, kek.hex(), base64.b64encode(kek).decode(), repr(kek)):
        assert secret not in shown
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(provider)


def test_two_providers_on_one_key_unwrap_each_others_wraps(
    provider: PKCS11KeyProvider, softhsm: SoftHSMToken, key_label: str
) -> None:
    second = open_provider(softhsm, key_label)
    first_kek, second_kek = os.urandom(32), os.urandom(32)
    from_first = provider.wrap(first_kek, context=CONTEXT)
    from_second = second.wrap(second_kek, context=CONTEXT)
    assert second.unwrap(from_first, context=CONTEXT) == first_kek
    assert provider.unwrap(from_second, context=CONTEXT) == second_kek
    # Closing one must not log the other out: the login is the process's.
    provider.close()
    assert second.unwrap(from_first, context=CONTEXT) == first_kek
    second.close()


def test_closing_the_last_provider_logs_the_process_out(
    provider: PKCS11KeyProvider, softhsm: SoftHSMToken, key_label: str
) -> None:
    with token_session(softhsm) as session:
        assert list(session.get_objects({Attribute.LABEL: key_label}))
    provider.close()
    with token_session(softhsm) as session:
        assert list(session.get_objects({Attribute.LABEL: key_label})) == []


def test_concurrent_wraps_and_unwraps_from_eight_threads(
    provider: PKCS11KeyProvider, softhsm: SoftHSMToken, key_label: str
) -> None:
    # Two providers, so threads also meet in the library through two sessions.
    second = open_provider(softhsm, key_label)
    start = threading.Barrier(8)

    def work(worker: int) -> int:
        mine, other = (provider, second) if worker % 2 else (second, provider)
        start.wait()
        for round_ in range(50):
            kek = os.urandom(32)
            context = CONTEXT + f"/{worker}/{round_}".encode()
            wrapped = mine.wrap(kek, context=context)
            assert other.unwrap(wrapped, context=context) == kek
            with pytest.raises(DecryptionFailed):
                mine.unwrap(wrapped, context=CONTEXT)
        return worker

    with second, ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(work, range(8))) == list(range(8))


def test_closed_provider_refuses_to_work(provider: PKCS11KeyProvider) -> None:
    wrapped = provider.wrap(os.urandom(32), context=CONTEXT)
    provider.close()
    provider.close()
    with pytest.raises(TokenError, match="is closed"):
        provider.wrap(os.urandom(32), context=CONTEXT)
    with pytest.raises(TokenError, match="is closed"):
        provider.unwrap(wrapped, context=CONTEXT)


def test_token_failure_is_reported_as_a_token_error_not_as_bad_data(
    provider: PKCS11KeyProvider, softhsm: SoftHSMToken, key_label: str
) -> None:
    wrapped = provider.wrap(os.urandom(32), context=CONTEXT)
    # C_Finalize and C_Initialize: every session ends, as when an HSM resets.
    pkcs11.lib(os.path.realpath(softhsm.module_path)).reinitialize()
    with pytest.raises(TokenError, match="failed during unwrap"):
        provider.unwrap(wrapped, context=CONTEXT)
    with pytest.raises(TokenError, match="failed during wrap"):
        provider.wrap(os.urandom(32), context=CONTEXT)
    provider.close()
    with open_provider(softhsm, key_label) as reopened:
        assert reopened.unwrap(wrapped, context=CONTEXT)
