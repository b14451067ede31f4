"""The HSM key provider: a root key that never leaves a PKCS#11 token.

``PKCS11KeyProvider.create_key`` generates an AES-256 secret key inside
the token (``CKA_TOKEN``, ``CKA_PRIVATE`` and ``CKA_SENSITIVE`` true,
``CKA_EXTRACTABLE`` and ``CKA_MODIFIABLE`` false, allowed to encrypt and
decrypt and nothing else); ``PKCS11KeyProvider.open`` logs in with the
user PIN and finds it by label. ``wrap`` and ``unwrap`` are ``C_Encrypt``
and ``C_Decrypt`` of the key material with ``CKM_AES_GCM`` in the token,
so the root key is never in this process's memory. Tested with SoftHSM2;
any token that offers ``CKM_AES_GCM`` with a caller-supplied IV will do.

Wrapped key, version 1::

    0x01 || iv (12) || AES-256-GCM(token key, iv, key, aad) (len(key) + 16-byte tag)
    aad = "claimbridge/pkcs11-wrap/v1" || 0x00 || context

The IV comes from the operating system's CSPRNG (96 random bits: safe for
far more wraps than a key hierarchy makes). The label in the associated
data keeps a blob made with the same token key for some other purpose
from unwrapping here. The token and key labels are deliberately not in it,
so a key restored into a token under another label still unwraps.

IMPORTANT: the wrapped format is frozen. Every tenant's key-encryption
keys are stored in it; a change makes an installation's data unreadable.
New layouts take a new version, and the reader keeps reading version 1.

Three properties of PKCS#11 shape the code, and each is a trap:

- The login belongs to the process, not to a session: a second
  ``C_Login`` fails with ``CKR_USER_ALREADY_LOGGED_IN`` without looking at
  the PIN, and ``C_Logout`` (which python-pkcs11 calls when a logged-in
  session closes) logs out every session. So the first provider opened on
  a token logs in, providers opened later check their PIN against that
  one (a keyed hash of it, never the PIN itself), and the login ends when
  the last provider on the token closes.
- python-pkcs11 calls ``C_Initialize`` without locking callbacks, which
  promises the library that no two threads call it at once; SoftHSM2 then
  turns its own mutexes off. Every call into a module therefore runs under
  one lock per module, shared by all providers on it. Wrapping a key is
  rare (the keyring caches what it unwraps), so serialising costs nothing
  that matters.
- A module is loaded and initialised once per process, and python-pkcs11
  caches it by the path string: the path is resolved first, so two
  spellings of one file do not initialise it twice. Fork after loading is
  not supported; open providers in the process that uses them.

Errors: a missing module, token or key, a wrong or locked PIN, a key that
is extractable or not AES-256, and a token that fails during ``wrap`` or
``unwrap`` (removed, reset, logged out) raise ``TokenError``, naming the
module path and labels, never the PIN. After a token failure, close every
provider on that token and open again: they share one login. Everything that depends on the
blob (wrong context, altered bytes, wrong length or version; SoftHSM2
reports a GCM tag mismatch as ``CKR_GENERAL_ERROR``) raises
``DecryptionFailed``. A token failure says nothing about the blob, so
telling it apart gives no oracle, and an operator learns that the HSM is
down rather than that the data is damaged.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, cast

import pkcs11
from pkcs11 import Attribute, GCMParams, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11 import exceptions as p11
from pkcs11.types import DecryptMixin, EncryptMixin, Object, Session, Token

from claimbridge.crypto import _primitives
from claimbridge.crypto.errors import DecryptionFailed, RootKeyMissing, TokenError

if TYPE_CHECKING:
    import pkcs11._pkcs11

WRAP_VERSION = 0x01
MECHANISM = "CKM_AES_GCM"

_ROOT_KEY_BITS = 256
_IV_SIZE = _primitives.GCM_NONCE_SIZE
_TAG_SIZE = _primitives.GCM_TAG_SIZE
_MIN_WRAPPED_KEY = 16
_MAX_WRAPPED_KEY = 64
_WRAP_AAD_LABEL = b"claimbridge/pkcs11-wrap/v1\x00"

_ROOT_KEY_TEMPLATE: dict[Attribute, Any] = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.MODIFIABLE: False,
    Attribute.ENCRYPT: True,
    Attribute.DECRYPT: True,
    Attribute.WRAP: False,
    Attribute.UNWRAP: False,
    Attribute.SIGN: False,
    Attribute.VERIFY: False,
    Attribute.DERIVE: False,
}

_REQUIRED_KEY_ATTRIBUTES: dict[Attribute, Any] = {
    Attribute.KEY_TYPE: KeyType.AES,
    Attribute.VALUE_LEN: _ROOT_KEY_BITS // 8,
    Attribute.TOKEN: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.ENCRYPT: True,
    Attribute.DECRYPT: True,
}
"""What ``open`` insists on: an AES-256 key that stays in the token."""

_TOKEN_UNAVAILABLE = (
    p11.DeviceError,
    p11.DeviceMemory,
    p11.DeviceRemoved,
    p11.KeyHandleInvalid,
    p11.SessionClosed,
    p11.SessionHandleInvalid,
    p11.TokenNotPresent,
    p11.TokenNotRecognised,
    p11.UserNotLoggedIn,
)
"""Failures of the token itself during ``unwrap``, whatever the blob."""

_PIN_DIGEST_KEY = _primitives.random_bytes(32)
"""Keys the digest that later opens compare their PIN with; never leaves the process."""


class _TokenKey(Protocol):
    """The part of python-pkcs11's key object that ``wrap`` and ``unwrap`` use."""

    def encrypt(
        self, data: bytes, *, mechanism: Mechanism, mechanism_param: GCMParams
    ) -> bytes | Iterator[bytes]: ...
    def decrypt(
        self, data: bytes, *, mechanism: Mechanism, mechanism_param: GCMParams
    ) -> bytes | Iterator[bytes]: ...


@dataclass(eq=False)
class _Login:
    """The process's login on one token, shared by every provider open on it."""

    slot_id: int
    session: Session
    pin_digest: bytes
    users: int = 1


@dataclass(eq=False)
class _Module:
    """One loaded PKCS#11 library; ``lock`` guards every call into it."""

    path: str
    lib: pkcs11._pkcs11.lib
    lock: threading.RLock
    logins: dict[int, _Login]


_modules: dict[str, _Module] = {}
_modules_lock = threading.Lock()


class PKCS11KeyProvider:
    """A ``KeyProvider`` whose root key is a non-extractable key in a PKCS#11 token.

    Make one with ``create_key`` or ``open`` and ``close`` it when done (or
    use it as a context manager); each holds one session on the token. Safe
    to share between threads. The PIN is not kept, and nothing here holds
    the root key.
    """

    __slots__ = ("_closed", "_key", "_key_label", "_login", "_module", "_session", "_token")

    def __init__(
        self,
        *,
        module: _Module,
        token: Token,
        login: _Login,
        session: Session,
        key: _TokenKey,
        key_label: str,
    ) -> None:
        self._module = module
        self._token = token
        self._login = login
        self._session = session
        self._key = key
        self._key_label = key_label
        self._closed = False

    @classmethod
    def open(
        cls, module_path: str | os.PathLike[str], *, token_label: str, pin: str, key_label: str
    ) -> PKCS11KeyProvider:
        """Log in to the token ``token_label`` and find the root key ``key_label``.

        ``TokenError`` if the module, the token or the key is missing, the
        PIN is wrong, or the key is not a sensitive, non-extractable
        AES-256 key that may encrypt and decrypt.
        """
        return cls._start(module_path, token_label=token_label, pin=pin, key_label=key_label)

    @classmethod
    def create_key(
        cls, module_path: str | os.PathLike[str], *, token_label: str, pin: str, key_label: str
    ) -> PKCS11KeyProvider:
        """Generate a new root key labelled ``key_label`` in the token; a provider over it.

        Refuses (``TokenError``) if an object with that label exists. The
        check and the generation are one step for this process, not for
        other processes sharing the token.
        """
        return cls._start(
            module_path, token_label=token_label, pin=pin, key_label=key_label, create=True
        )

    @classmethod
    def _start(
        cls,
        module_path: str | os.PathLike[str],
        *,
        token_label: str,
        pin: str,
        key_label: str,
        create: bool = False,
    ) -> PKCS11KeyProvider:
        if not (token_label and key_label):
            raise TokenError("A PKCS#11 key provider needs a token label and a key label.")
        if not pin:
            raise TokenError(f"The PKCS#11 token {token_label!r} needs a non-empty PIN.")
        module = _load_module(module_path)
        with module.lock, contextlib.ExitStack() as undo:
            token = _find_token(module, token_label)
            login = _log_in(module, token, pin)
            undo.callback(_log_out, module, login)
            with _failing_as(f"Could not open a session on the PKCS#11 token {token_label!r}."):
                # No PIN: the session shares the process's login, and
                # closing it logs nobody out.
                session = token.open(rw=create)
            undo.callback(_close_quietly, session)
            if create:
                _generate_root_key(session, token_label, key_label)
            key = _find_root_key(session, token_label, key_label)
            undo.pop_all()
        return cls(
            module=module, token=token, login=login, session=session, key=key, key_label=key_label
        )

    def __repr__(self) -> str:
        return f"PKCS11KeyProvider(provider_id={self.provider_id!r}, module={self._module.path!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a PKCS11KeyProvider cannot be pickled or copied")

    def __enter__(self) -> PKCS11KeyProvider:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def provider_id(self) -> str:
        return f"pkcs11:{self._token.label}/{self._key_label}"

    def wrap(self, key: bytes, *, context: bytes) -> bytes:
        """``key`` (16 to 64 bytes) encrypted in the token, bound to ``context``."""
        if not _MIN_WRAPPED_KEY <= len(key) <= _MAX_WRAPPED_KEY:
            raise ValueError("wrap takes key material of 16 to 64 bytes")
        iv = _primitives.random_bytes(_IV_SIZE)
        with self._module.lock, _failing_as(self._token_failed("wrap")):
            self._check_open()
            sealed = self._key.encrypt(
                bytes(key), mechanism=Mechanism.AES_GCM, mechanism_param=_gcm(iv, context)
            )
        return bytes([WRAP_VERSION]) + iv + cast(bytes, sealed)

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        """The key ``wrap`` was given; ``DecryptionFailed`` on any mismatch."""
        body = 1 + _IV_SIZE
        size = len(wrapped) - body - _TAG_SIZE
        if not _MIN_WRAPPED_KEY <= size <= _MAX_WRAPPED_KEY or wrapped[0] != WRAP_VERSION:
            raise DecryptionFailed(detail="not a version 1 pkcs11 wrap")
        with self._module.lock:
            self._check_open()
            try:
                key = self._key.decrypt(
                    bytes(wrapped[body:]),
                    mechanism=Mechanism.AES_GCM,
                    mechanism_param=_gcm(wrapped[1:body], context),
                )
            except _TOKEN_UNAVAILABLE as error:
                raise TokenError(
                    self._token_failed("unwrap"), detail=type(error).__name__
                ) from None
            except p11.PKCS11Error as error:
                raise DecryptionFailed(detail=f"token refused: {type(error).__name__}") from None
        return cast(bytes, key)

    def describe(self) -> dict[str, object]:
        return {
            "provider": "pkcs11",
            "provider_id": self.provider_id,
            "module": self._module.path,
            "token_label": self._token.label,
            "token_serial": self._token.serial.decode("ascii", "replace"),
            "token_model": self._token.model,
            "key_label": self._key_label,
            "mechanism": MECHANISM,
            "cipher": "aes-256-gcm",
        }

    def close(self) -> None:
        """End this provider's session; the last provider on a token logs out. Idempotent."""
        with self._module.lock:
            if self._closed:
                return
            self._closed = True
            _close_quietly(self._session)
            _log_out(self._module, self._login)

    def _check_open(self) -> None:
        if self._closed:
            raise TokenError(f"The PKCS#11 key provider {self.provider_id} is closed.")

    def _token_failed(self, operation: str) -> str:
        # The login is the process's, so one provider cannot recover alone.
        return (
            f"The PKCS#11 token {self._token.label!r} failed during {operation}; "
            "close every provider on it and open them again."
        )


@contextlib.contextmanager
def _failing_as(message: str) -> Iterator[None]:
    """Raise ``TokenError(message)`` for any error of python-pkcs11; its name goes to ``detail``."""
    try:
        yield
    except p11.PKCS11Error as error:
        raise TokenError(message, detail=type(error).__name__) from None


def _gcm(iv: bytes, context: bytes) -> GCMParams:
    return GCMParams(bytes(iv), _WRAP_AAD_LABEL + bytes(context), _TAG_SIZE * 8)


def _load_module(module_path: str | os.PathLike[str]) -> _Module:
    path = os.path.realpath(module_path)
    with _modules_lock:
        if path in _modules:
            return _modules[path]
        if not os.path.isfile(path):
            raise TokenError(f"The PKCS#11 module {path} does not exist.")
        try:
            lib = pkcs11.lib(path)
        except p11.PKCS11Error as error:
            # python-pkcs11's message is the loader's: the path and why, no secret.
            raise TokenError(
                f"The PKCS#11 module {path} could not be loaded.", detail=str(error)
            ) from None
        module = _modules[path] = _Module(path=path, lib=lib, lock=threading.RLock(), logins={})
        return module


def _find_token(module: _Module, label: str) -> Token:
    with _failing_as(f"The PKCS#11 module {module.path} could not list its tokens."):
        tokens = list(module.lib.get_tokens(token_label=label))
    if len(tokens) != 1:
        how_many = "no" if not tokens else "more than one"
        raise TokenError(f"The PKCS#11 module {module.path} has {how_many} token {label!r}.")
    return tokens[0]


def _log_in(module: _Module, token: Token, pin: str) -> _Login:
    """This process's login on ``token``: a new one, or the current one if ``pin`` matches it."""
    digest = _primitives.hmac_sha256(_PIN_DIGEST_KEY, pin.encode("utf-8"))
    login = module.logins.get(token.slot.slot_id)
    if login is not None:
        # The token would answer "already logged in" whatever the PIN, so
        # the PIN is checked here against the one the token accepted.
        if not hmac.compare_digest(login.pin_digest, digest):
            raise _wrong_pin(token)
        login.users += 1
        return login
    with _failing_as(f"Could not log in to the PKCS#11 token {token.label!r}."):
        try:
            session = token.open(user_pin=pin)
        except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange):
            raise _wrong_pin(token) from None
        except p11.UserAlreadyLoggedIn:
            raise TokenError(
                f"The PKCS#11 token {token.label!r} is already logged in by other code in "
                "this process, so the PIN cannot be checked."
            ) from None
    login = _Login(slot_id=token.slot.slot_id, session=session, pin_digest=digest)
    module.logins[login.slot_id] = login
    return login


def _wrong_pin(token: Token) -> TokenError:
    return TokenError(f"The PIN for the PKCS#11 token {token.label!r} is wrong.")


def _log_out(module: _Module, login: _Login) -> None:
    login.users -= 1
    if login.users == 0:
        del module.logins[login.slot_id]
        _close_quietly(login.session)


def _close_quietly(session: Session) -> None:
    # A session on a token that was removed or reset is already gone.
    with contextlib.suppress(p11.PKCS11Error):
        session.close()


def _objects_labelled(
    session: Session, label: str, where: dict[Attribute, Any] | None = None
) -> list[Object]:
    # list(): the search holds the session until its generator is finished.
    return list(session.get_objects({Attribute.LABEL: label, **(where or {})}))


def _generate_root_key(session: Session, token_label: str, key_label: str) -> None:
    with _failing_as(
        f"Could not create the key {key_label!r} in the PKCS#11 token {token_label!r}."
    ):
        if _objects_labelled(session, key_label):
            raise TokenError(
                f"The PKCS#11 token {token_label!r} already has an object labelled "
                f"{key_label!r}; refusing to create another."
            )
        session.generate_key(
            KeyType.AES,
            _ROOT_KEY_BITS,
            label=key_label,
            store=True,
            capabilities=MechanismFlag.ENCRYPT | MechanismFlag.DECRYPT,
            template=_ROOT_KEY_TEMPLATE,
        )


def _find_root_key(session: Session, token_label: str, key_label: str) -> _TokenKey:
    with _failing_as(f"Could not read the key {key_label!r} in the PKCS#11 token {token_label!r}."):
        found = _objects_labelled(session, key_label, {Attribute.CLASS: ObjectClass.SECRET_KEY})
        if len(found) != 1:
            how_many = "no" if not found else "more than one"
            raise (RootKeyMissing if not found else TokenError)(
                f"The PKCS#11 token {token_label!r} has {how_many} secret key labelled "
                f"{key_label!r}."
            )
        key = found[0]
        attributes = key.get_attributes(list(_REQUIRED_KEY_ATTRIBUTES))
    wrong = [a.name for a, value in _REQUIRED_KEY_ATTRIBUTES.items() if attributes[a] != value]
    # python-pkcs11 gives the object encrypt() and decrypt() only if
    # CKA_ENCRYPT and CKA_DECRYPT are true, which ``wrong`` has checked.
    if wrong or not (isinstance(key, EncryptMixin) and isinstance(key, DecryptMixin)):
        raise TokenError(
            f"The key {key_label!r} in the PKCS#11 token {token_label!r} is not a sensitive, "
            "non-extractable AES-256 key for encryption; refusing to use it.",
            detail=f"attributes not as required: {', '.join(wrong)}",
        )
    return key
