"""The error tree of claimbridge.

Every error raised on purpose is a ``ClaimbridgeError``. Each carries a safe
public ``message`` (no PHI, no key material, no internals), a stable ``code``
for machines, and an optional ``where`` naming the place in the input that
was wrong (a segment, a line, a field, a path). Anything else a developer
needs goes into ``detail``, which is for logs only and is never shown to a
caller.

::

    ClaimbridgeError
    ├── ConfigError              the configuration is missing, wrong or insecure
    │   └── InsecureDataDir      the data directory is readable by others
    ├── InputError               the caller sent something we cannot accept
    │   ├── ValidationFailed     a value does not have the required shape
    │   └── PayloadTooLarge      a body or file is over the configured limit
    ├── NotFound                 no such thing, or not for you (indistinguishable)
    ├── AccessDenied             authenticated but not allowed
    ├── Unauthenticated          no valid credentials
    ├── Conflict                 the request contradicts the current state
    └── StorageError             the database or blob store failed
        └── SchemaOutOfDate      the database is not at the migration head

Interfaces map these to HTTP statuses (``api/problems.py``) and to exit
codes (``cli/errors.py``); nowhere else catches broadly.
"""

from __future__ import annotations

from typing import ClassVar


class ClaimbridgeError(Exception):
    """Root of every deliberate claimbridge error."""

    code: ClassVar[str] = "internal_error"
    public_message: ClassVar[str] = "The request could not be completed."

    def __init__(
        self,
        message: str | None = None,
        *,
        where: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.message = message or self.public_message
        self.where = where
        self.detail = detail
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.message} (at {self.where})" if self.where else self.message

    def to_dict(self) -> dict[str, str | None]:
        """The public shape shared by the API and ``--json`` output."""
        return {"code": self.code, "message": self.message, "where": self.where}


class ConfigError(ClaimbridgeError):
    code = "config_error"
    public_message = "The configuration is not valid."


class InsecureDataDir(ConfigError):
    code = "insecure_data_dir"
    public_message = "The data directory is readable or writable by other users."


class InputError(ClaimbridgeError):
    code = "invalid_input"
    public_message = "The input is not valid."


class ValidationFailed(InputError):
    code = "validation_failed"
    public_message = "A value does not have the required form."


class PayloadTooLarge(InputError):
    code = "payload_too_large"
    public_message = "The request body is larger than allowed."


class NotFound(ClaimbridgeError):
    code = "not_found"
    public_message = "Not found."


class Unauthenticated(ClaimbridgeError):
    code = "unauthenticated"
    public_message = "Authentication is required."


class AccessDenied(ClaimbridgeError):
    code = "forbidden"
    public_message = "You are not allowed to do this."


class Conflict(ClaimbridgeError):
    code = "conflict"
    public_message = "The request conflicts with the current state."


class StorageError(ClaimbridgeError):
    code = "storage_unavailable"
    public_message = "The data store is unavailable; try again shortly."


class SchemaOutOfDate(StorageError):
    code = "schema_out_of_date"
    public_message = "The database schema is not up to date; run `claimbridge init`."
