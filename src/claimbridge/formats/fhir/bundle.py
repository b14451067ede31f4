"""Read a FHIR R4 Bundle of professional claims: ``read_bundle``.

A practice's EHR exports a Bundle (``collection``, ``transaction`` or
``batch``) of Claims with the Patients, Coverages, Encounters,
Organizations, Practitioners and PractitionerRoles they reference.
``read_bundle(source)`` returns a ``FhirReading``: iterate it for one
``ProfessionalClaim`` per readable Claim, the same record the 837P reader
yields, so ingest has one path. Afterwards ``results`` holds one
``ClaimResult`` per Claim entry (accepted, or rejected with its errors),
``bundle_errors`` what was wrong with the Bundle beyond any one claim, and
``raise_for_errors()`` raises the first error of either.

One bad Claim is rejected with its errors and the others are read. What
makes the whole body unreadable (over the size limit, not UTF-8, not JSON,
nested too deep, not a Bundle of a type read here) is raised from the
iteration as a ``BundleUnreadable``. Only ``FhirError`` is raised for bad
input.

Reading is lazy, as with the X12 readers: nothing is read until the first
iteration. The body is read whole (the standard library has no streaming
JSON parser), within ``max_bytes``; parsed, it takes about seven times its
size in memory while it is read (a 100 MiB Bundle, some 24,000 claims, about
750 MiB).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO

from claimbridge.formats.fhir.body import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, load_json, read_body
from claimbridge.formats.fhir.claims import ClaimBuilder
from claimbridge.formats.fhir.elements import Element, JSONObject, parse_day
from claimbridge.formats.fhir.errors import (
    ElementInvalid,
    ElementMissing,
    FhirError,
    NotABundle,
)
from claimbridge.formats.fhir.resolve import BundleIndex, Located
from claimbridge.formats.fhir.validate import MODELS, check_bundle_shell, check_resource
from claimbridge.formats.x12.records837 import Party, Submission
from claimbridge.formats.x12.x837p import ProfessionalClaim

__all__ = ["BUNDLE_TYPES", "ClaimResult", "FhirReading", "read_bundle"]

BUNDLE_TYPES = frozenset({"collection", "transaction", "batch"})
_ENTRY = "Bundle.entry"
_CLOCK = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}):([0-9]{2})")


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """What became of one Claim entry: accepted, or rejected with its errors.

    ``entry`` is the index in ``Bundle.entry``; ``claim_id`` the claim's
    identifier as far as it could be read (``""`` when not).
    """

    entry: int
    path: str
    claim_id: str
    errors: tuple[FhirError, ...] = ()

    @property
    def accepted(self) -> bool:
        return not self.errors


class FhirReading:
    """Claims read from a FHIR Bundle, and what became of each Claim entry.

    Iterate it once; afterwards ``results``, ``bundle_errors``, ``errors``,
    ``accepted`` and ``raise_for_errors()`` tell what was read and what not.
    """

    def __init__(
        self,
        source: BinaryIO | bytes,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        self._source = source
        self._max_bytes = max_bytes
        self._max_depth = max_depth
        self._started = False
        self._checked: dict[int, list[FhirError]] = {}
        self._submissions: dict[date, Submission] = {}
        self._reference = ""
        self._sent: tuple[date, str] | None = None
        self.results: list[ClaimResult] = []
        self.bundle_errors: list[FhirError] = []

    def __iter__(self) -> Iterator[ProfessionalClaim]:
        if self._started:
            raise RuntimeError("a FhirReading can be iterated only once")
        self._started = True
        return self._run()

    @property
    def errors(self) -> list[FhirError]:
        """Every error found: the Bundle's own first, then each claim's in entry order."""
        found = list(self.bundle_errors)
        for result in self.results:
            found.extend(result.errors)
        return found

    @property
    def accepted(self) -> bool:
        """True when at least one claim was read and nothing was wrong."""
        return bool(self.results) and not self.errors

    def raise_for_errors(self) -> None:
        """Raise the first error, if any."""
        errors = self.errors
        if errors:
            raise errors[0]

    # -- the walk --------------------------------------------------------------

    def _run(self) -> Iterator[ProfessionalClaim]:
        body = read_body(self._source, max_bytes=self._max_bytes)
        bundle = _bundle(load_json(body, max_depth=self._max_depth))
        del body  # the parsed document is all that is needed from here on
        self.bundle_errors.extend(check_bundle_shell(bundle))
        self._read_header(Element(bundle, "Bundle"))
        index, claims = self._index(bundle)
        for located in claims:
            builder = ClaimBuilder(
                located, index=index, check=self._check, submission=self._submission
            )
            claim = builder.build()
            self.results.append(
                ClaimResult(
                    entry=_entry_number(located.path),
                    path=located.path,
                    claim_id=_claim_id(located.resource),
                    errors=tuple(builder.errors),
                )
            )
            if claim is not None:
                yield claim

    def _index(self, bundle: JSONObject) -> tuple[BundleIndex, list[Located]]:
        index = BundleIndex()
        claims: list[Located] = []
        entries = bundle.get("entry")
        if entries is None or entries == []:
            self.bundle_errors.append(ElementMissing("The Bundle has no entries.", path=_ENTRY))
            return index, claims
        if not isinstance(entries, list):
            raise NotABundle("Bundle.entry must be a JSON array.", path=_ENTRY)
        for number, entry in enumerate(entries):
            located, full_url = self._entry(entry, f"Bundle.entry[{number}]")
            if located is None:
                continue
            index.add(located, full_url, url_path=f"Bundle.entry[{number}].fullUrl")
            if located.kind == "Claim":
                claims.append(located)
        self.bundle_errors.extend(index.errors)
        if not claims:
            self.bundle_errors.append(ElementMissing("The Bundle holds no Claim.", path=_ENTRY))
        return index, claims

    def _entry(self, entry: Any, path: str) -> tuple[Located | None, str]:
        """The resource of one entry, or ``None`` (noted) when it has none to offer."""
        try:
            if not isinstance(entry, dict):
                raise ElementInvalid("An entry must be a JSON object.", path=path)
            element = Element(entry, path)
            full_url = element.string("fullUrl")
            resource = element.object("resource")
            if resource is None:
                # A transaction may delete by URL: such an entry has no resource.
                return None, full_url
            resource.string("resourceType", required="The resource has no resourceType.")
        except FhirError as exc:
            self.bundle_errors.append(exc)
            return None, ""
        return Located(resource.data, resource.path, resource.data), full_url

    def _read_header(self, bundle: Element) -> None:
        identifier = bundle.data.get("identifier")
        value = identifier.get("value") if isinstance(identifier, dict) else None
        bundle_id = bundle.data.get("id")
        self._reference = next(
            (text for text in (value, bundle_id) if isinstance(text, str) and text), ""
        )
        timestamp = bundle.data.get("timestamp")
        clock = _CLOCK.match(timestamp) if isinstance(timestamp, str) else None
        if clock is not None:
            try:
                day = parse_day(clock[1], "Bundle.timestamp")
            except FhirError:
                return  # the shell check reports it
            self._sent = (day, clock[2] + clock[3])

    def _submission(self, created: date) -> Submission:
        """The submission a claim belongs to: the Bundle's, dated when it was sent.

        A Bundle without a timestamp is dated by each claim's creation day.
        FHIR names no submitter or receiver (the 837P's loops 1000A and
        1000B); those parties are left blank for the biller to fill.
        """
        day, time = self._sent if self._sent is not None else (created, "")
        submission = self._submissions.get(day)
        if submission is None:
            submission = Submission(
                reference=self._reference,
                created_on=day,
                created_time=time,
                submitter=Party(role="submitter", name=""),
                receiver=Party(role="receiver", name=""),
            )
            self._submissions[day] = submission
        return submission

    def _check(self, located: Located) -> list[FhirError]:
        """The structure check of a resource (with its holder), once per resource."""
        if _kind(located.holder) in MODELS:
            target, path = located.holder, located.holder_path
        else:
            target, path = located.resource, located.path
        key = id(target)
        errors = self._checked.get(key)
        if errors is None:
            errors = check_resource(target, path)
            self._checked[key] = errors
        return errors


def _bundle(document: Any) -> JSONObject:
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        raise NotABundle("The document is not a FHIR Bundle (resourceType Bundle).", path="Bundle")
    kind = document.get("type")
    if not isinstance(kind, str) or kind not in BUNDLE_TYPES:
        raise NotABundle(
            "Only Bundles of type collection, transaction or batch are read.", path="Bundle.type"
        )
    return document


def _kind(resource: JSONObject) -> str:
    kind = resource.get("resourceType")
    return kind if isinstance(kind, str) else ""


def _entry_number(path: str) -> int:
    return int(path[len("Bundle.entry[") : path.index("]")])


def _claim_id(claim: JSONObject) -> str:
    identifiers = claim.get("identifier")
    if isinstance(identifiers, list) and identifiers and isinstance(identifiers[0], dict):
        value = identifiers[0].get("value")
        if isinstance(value, str):
            return value
    claim_id = claim.get("id")
    return claim_id if isinstance(claim_id, str) else ""


def read_bundle(
    source: BinaryIO | bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> FhirReading:
    """Read the professional claims of a FHIR R4 Bundle (JSON).

    ``max_bytes`` bounds the body (default 100 MiB), ``max_depth`` the
    nesting of its arrays and objects. Iterate the result for the claims;
    afterwards ``.results`` says, per Claim entry, whether it was read and why not.
    """
    return FhirReading(source, max_bytes=max_bytes, max_depth=max_depth)
