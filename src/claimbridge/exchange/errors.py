"""What the exchange refuses, each with a code a client can act on.

::

    InputError
    ├── ManifestInvalid      the signature, key, freshness or fields of a manifest
    ├── ContentMismatch      the content is not what the manifest signed for
    └── FormatMismatch       the content is not in the format the manifest declares
    AccessDenied
    └── NoEngagement         no active engagement between the practice and the recipient
"""

from __future__ import annotations

from claimbridge.errors import AccessDenied, InputError

__all__ = ["ContentMismatch", "FormatMismatch", "ManifestInvalid", "NoEngagement"]


class ManifestInvalid(InputError):
    code = "manifest_invalid"
    public_message = "The batch manifest is not valid."


class ContentMismatch(InputError):
    code = "content_mismatch"
    public_message = "The content does not match its signed manifest."


class FormatMismatch(InputError):
    code = "format_mismatch"
    public_message = "The content is not in the format the manifest declares."


class NoEngagement(AccessDenied):
    code = "no_engagement"
    public_message = (
        "The practice has no active engagement with this billing company: no PHI may go to it."
    )
