"""The entries of a Bundle and the references between them.

A reference is resolved inside the Bundle only, the way FHIR resolves
references in a Bundle: ``urn:uuid:…`` and absolute URLs match an entry's
``fullUrl``; a relative ``Type/id`` (with or without ``/_history/n``)
matches the entry whose resource has that type and id; ``#id`` names a
resource contained in the resource that holds the reference. Nothing is
fetched from anywhere.

A reference that matches nothing is a ``ReferenceUnresolved`` at the path
of its ``reference`` element; one that matches two entries (two servers'
``Patient/1``) a ``ReferenceAmbiguous``; one that finds a resource of
another type than the element allows a ``ResourceTypeUnexpected``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from claimbridge.formats.fhir.elements import Element, JSONObject
from claimbridge.formats.fhir.errors import (
    DuplicateEntry,
    FhirError,
    ReferenceAmbiguous,
    ReferenceUnresolved,
    ResourceTypeUnexpected,
)

__all__ = ["BundleIndex", "Located"]

# The tail of a RESTful URL: Type/id, optionally /_history/version.
_RELATIVE = re.compile(r"(?:.*/)?([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?")


@dataclass(frozen=True, slots=True)
class Located:
    """A resource found in the Bundle: its JSON, its path, and the resource holding it.

    ``holder`` is the entry's resource for a contained resource and the
    resource itself otherwise: ``#id`` references inside either are looked
    up among the holder's contained resources.
    """

    resource: JSONObject
    path: str
    holder: JSONObject

    @property
    def kind(self) -> str:
        kind = self.resource.get("resourceType")
        return kind if isinstance(kind, str) else ""

    @property
    def element(self) -> Element:
        return Element(self.resource, self.path)

    @property
    def holder_path(self) -> str:
        if self.holder is self.resource:
            return self.path
        return self.path.rsplit(".contained[", 1)[0]


_AMBIGUOUS = Located({}, "", {})


class BundleIndex:
    """Entries by ``fullUrl`` and by ``Type/id``, for resolving references."""

    def __init__(self) -> None:
        self._by_url: dict[str, Located] = {}
        self._by_id: dict[str, Located] = {}
        self.errors: list[FhirError] = []

    def add(self, located: Located, full_url: str, *, url_path: str) -> None:
        """Index one entry; a repeated ``fullUrl`` is a ``DuplicateEntry``."""
        if full_url:
            if full_url in self._by_url:
                self.errors.append(
                    DuplicateEntry("Another entry has the same fullUrl.", path=url_path)
                )
                self._by_url[full_url] = _AMBIGUOUS
            else:
                self._by_url[full_url] = located
        resource_id = located.resource.get("id")
        if isinstance(resource_id, str) and located.kind:
            key = f"{located.kind}/{resource_id}"
            self._by_id[key] = _AMBIGUOUS if key in self._by_id else located

    def resolve(self, reference: Element, *, allowed: Iterable[str], within: Located) -> Located:
        """The resource ``reference`` points at, which must be of one of the ``allowed`` types."""
        allowed = tuple(allowed)
        names = " or ".join(allowed)
        target = reference.string(
            "reference", required=f"A reference to the {names} is required here."
        )
        where = reference.at("reference")
        found = self._find(target, within)
        if found is None:
            raise ReferenceUnresolved(
                f"The reference to a {names} does not resolve to a resource in the Bundle.",
                path=where,
            )
        if found is _AMBIGUOUS:
            raise ReferenceAmbiguous(
                f"The reference to a {names} resolves to more than one entry of the Bundle.",
                path=where,
            )
        if found.kind not in allowed:
            raise ResourceTypeUnexpected(
                f"The reference must point at a {names}; it points at a {_kind(found)}.",
                path=where,
            )
        return found

    def _find(self, target: str, within: Located) -> Located | None:
        if target.startswith("#"):
            return _contained(within, target[1:])
        found = self._by_url.get(target)
        if found is not None:
            return found
        match = _RELATIVE.fullmatch(target)
        if match is None or "://" in target or target.startswith("urn:"):
            return None
        return self._by_id.get(f"{match[1]}/{match[2]}")


def _contained(within: Located, resource_id: str) -> Located | None:
    holder = within.holder
    contained = holder.get("contained")
    if not resource_id or not isinstance(contained, list):
        return None
    for index, resource in enumerate(contained):
        if isinstance(resource, dict) and resource.get("id") == resource_id:
            return Located(resource, f"{within.holder_path}.contained[{index}]", holder)
    return None


def _kind(found: Located) -> str:
    kind = found.kind
    # Only a resource type name is worth repeating; anything else may be input.
    return kind if kind.isascii() and kind.isalpha() and len(kind) <= 40 else "resource"
