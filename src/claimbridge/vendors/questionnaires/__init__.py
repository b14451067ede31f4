"""Risk questionnaires as versioned data, and the loader that checks them.

Each ``<version>.json`` file beside this module is one questionnaire
version. Versions are kept side by side so that an assessment answered
against an older version can still be read and scored after the next one
ships; the file name is the version id, and the file says so too.

The file, not code, holds the questions: sections (HIPAA Security Rule
safeguards and the topics a practice asks a billing company about), each
with a fixed inherent risk (0-100) and its questions. A question has a
stable id, our own wording, a positive integer weight, an answer kind and
what each answer costs in risk (0 = no risk, 1 = the whole weight):

- ``yes_no``: yes is 0, no is 1;
- ``choice``: each option names its risk, and may be ``critical``;
- ``number`` and ``date``: ordered ``thresholds`` bands, a date by its age
  in days on the day of scoring;
- ``text``: any non-blank answer is 0;
- ``evidence``: the answer is the evidence itself.

``critical`` on a question means its worst answer (risk 1: a "no") is a
critical finding. ``evidence`` says whether proof is required and whether
it expires (certificates). Every question maps to NIST CSF 2.0
subcategories and SOC 2 (2017 Trust Services Criteria) criteria.

A malformed file raises ``ValidationFailed`` whose ``where`` names the
version and the question (``hipaa-security-2026-1/TECH-03/weight``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib.resources import files
from typing import Any, Literal, cast

from claimbridge.errors import ValidationFailed

AnswerKind = Literal["yes_no", "choice", "number", "date", "text", "evidence"]
KINDS: tuple[AnswerKind, ...] = ("yes_no", "choice", "number", "date", "text", "evidence")

# NIST CSF 2.0 functions and their categories; subcategories are two digits.
CSF_CATEGORIES: Mapping[str, frozenset[str]] = {
    "GV": frozenset({"OC", "RM", "RR", "PO", "OV", "SC"}),
    "ID": frozenset({"AM", "RA", "IM"}),
    "PR": frozenset({"AA", "AT", "DS", "PS", "IR"}),
    "DE": frozenset({"CM", "AE"}),
    "RS": frozenset({"MA", "AN", "CO", "MI"}),
    "RC": frozenset({"RP", "CO"}),
}
_CSF_ID = re.compile(r"(?P<function>[A-Z]{2})\.(?P<category>[A-Z]{2})-(?P<number>\d{2})")

# SOC 2 (2017 TSC, revised points of focus 2022): series -> highest criterion number.
SOC2_CRITERIA: Mapping[str, int] = {
    "CC1": 5, "CC2": 3, "CC3": 4, "CC4": 2, "CC5": 3, "CC6": 8, "CC7": 5, "CC8": 1, "CC9": 2,
    "A1": 3, "C1": 2, "PI1": 5, "P1": 1, "P2": 1, "P3": 2, "P4": 3, "P5": 2, "P6": 7, "P7": 1,
    "P8": 1,
}  # fmt: skip
_SOC2_ID = re.compile(r"(?P<series>[A-Z]{1,2}\d)\.(?P<number>\d)")

_QUESTION_KEYS = frozenset(
    {"id", "kind", "weight", "critical", "text", "finding", "options", "thresholds", "unit"}
    | {"evidence", "nist_csf", "soc2"}
)


@dataclass(frozen=True, slots=True)
class Option:
    """One answer of a choice question and the risk it carries."""

    value: str
    label: str
    risk: Decimal
    critical: bool = False


@dataclass(frozen=True, slots=True)
class Band:
    """A threshold: answers on the good side of ``limit`` carry ``risk``."""

    limit: Decimal
    risk: Decimal


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Ordered bands for a number (or a date's age in days); the first that holds wins."""

    better: Literal["lower", "higher"]
    bands: tuple[Band, ...]
    otherwise: Decimal

    def risk_of(self, value: Decimal) -> Decimal:
        for band in self.bands:
            holds = value <= band.limit if self.better == "lower" else value >= band.limit
            if holds:
                return band.risk
        return self.otherwise


@dataclass(frozen=True, slots=True)
class EvidenceRule:
    """Whether a question needs proof, and whether that proof expires."""

    required: bool
    expires: bool
    label: str


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    section: str
    kind: AnswerKind
    text: str
    finding: str
    weight: int
    critical: bool
    nist_csf: tuple[str, ...]
    soc2: tuple[str, ...]
    options: tuple[Option, ...] = ()
    thresholds: Thresholds | None = None
    unit: str | None = None
    evidence: EvidenceRule | None = None

    def option(self, value: str) -> Option | None:
        return next((option for option in self.options if option.value == value), None)


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    title: str
    reference: str
    inherent: Decimal
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class Questionnaire:
    version: str
    date: dt.date
    title: str
    sections: tuple[Section, ...]

    def questions(self) -> tuple[Question, ...]:
        return tuple(question for section in self.sections for question in section.questions)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions() if q.id == question_id), None)


def versions() -> tuple[str, ...]:
    """The version ids shipped with this package, oldest first."""
    return tuple(sorted(_registry()))


def load(version: str) -> Questionnaire:
    """The questionnaire ``version``; ``ValidationFailed`` if there is none."""
    try:
        return _registry()[version]
    except KeyError:
        raise ValidationFailed("No questionnaire has this version.", where=version) from None


def latest() -> Questionnaire:
    """The newest version (version ids sort by date)."""
    return load(versions()[-1])


@functools.cache
def _registry() -> Mapping[str, Questionnaire]:
    registry: dict[str, Questionnaire] = {}
    for resource in files(__package__).iterdir():
        if resource.name.endswith(".json"):
            version = resource.name.removesuffix(".json")
            registry[version] = parse_questionnaire(resource.read_bytes(), version=version)
    return registry


def parse_questionnaire(raw: bytes | str, *, version: str) -> Questionnaire:
    """Parse and check one questionnaire file that must declare ``version``."""
    try:
        data = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise ValidationFailed("The questionnaire is not valid JSON.", where=version) from None
    top = _object(data, version)
    _exact(top, version, required={"version", "date", "title", "sections"})
    if top["version"] != version:
        raise ValidationFailed("The file's version does not match its name.", where=version)
    sections = tuple(
        _section(raw_section, version) for raw_section in _list(top, "sections", version)
    )
    _unique([s.id for s in sections], version, "section")
    _unique([q.id for s in sections for q in s.questions], version, "question")
    return Questionnaire(
        version=version,
        date=_date(top["date"], f"{version}/date"),
        title=_text(top, "title", version),
        sections=sections,
    )


def _section(raw: object, version: str) -> Section:
    data = _object(raw, version)
    where = f"{version}/{data.get('id', '?')}"
    _exact(data, where, required={"id", "title", "reference", "inherent", "questions"})
    inherent = _risk_number(data["inherent"], f"{where}/inherent", top=Decimal(100))
    if inherent == 0:
        raise ValidationFailed("The inherent risk must be above 0.", where=f"{where}/inherent")
    section_id = _text(data, "id", where)
    questions = tuple(_question(q, version, section_id) for q in _list(data, "questions", where))
    return Section(
        id=section_id,
        title=_text(data, "title", where),
        reference=_text(data, "reference", where),
        inherent=inherent,
        questions=questions,
    )


def _question(raw: object, version: str, section: str) -> Question:
    data = _object(raw, f"{version}/{section}")
    where = f"{version}/{data.get('id', '?')}"
    required = {"id", "kind", "weight", "text", "finding", "nist_csf", "soc2"}
    _exact(data, where, required=required, optional=_QUESTION_KEYS)
    kind = data["kind"]
    if kind not in KINDS:
        raise ValidationFailed(f"Unknown answer kind; use one of {', '.join(KINDS)}.", where=where)
    weight = data["weight"]
    if type(weight) is not int or weight <= 0:
        raise ValidationFailed(
            "The weight must be a whole number above 0.", where=f"{where}/weight"
        )
    return Question(
        id=_text(data, "id", where),
        section=section,
        kind=cast(AnswerKind, kind),
        text=_text(data, "text", where),
        finding=_text(data, "finding", where),
        weight=weight,
        critical=_flag(data, "critical", where),
        nist_csf=_mapping(data, "nist_csf", where, _csf_ok),
        soc2=_mapping(data, "soc2", where, _soc2_ok),
        options=_options(data, where) if kind == "choice" else _absent(data, "options", where),
        thresholds=_thresholds(data, where, kind),
        unit=_text(data, "unit", where) if "unit" in data else None,
        evidence=_evidence(data, where, kind),
    )


def _options(data: Mapping[str, Any], where: str) -> tuple[Option, ...]:
    options: list[Option] = []
    for raw in _list(data, "options", where):
        option = _object(raw, f"{where}/options")
        at = f"{where}/options/{option.get('value', '?')}"
        _exact(option, at, required={"value", "label", "risk"}, optional={"critical"})
        options.append(
            Option(
                value=_text(option, "value", at),
                label=_text(option, "label", at),
                risk=_risk_number(option["risk"], f"{at}/risk"),
                critical=_flag(option, "critical", at),
            )
        )
    if len(options) < 2:
        raise ValidationFailed("A choice needs at least two options.", where=f"{where}/options")
    _unique([o.value for o in options], f"{where}/options", "option")
    return tuple(options)


def _thresholds(data: Mapping[str, Any], where: str, kind: str) -> Thresholds | None:
    if kind not in {"number", "date"}:
        _absent(data, "thresholds", where)
        return None
    at = f"{where}/thresholds"
    raw = _object(data.get("thresholds"), at)
    _exact(raw, at, required={"better", "bands", "otherwise"})
    better = raw["better"]
    if better not in {"lower", "higher"} or (kind == "date" and better != "lower"):
        raise ValidationFailed("'better' must be 'lower' or 'higher' (dates: 'lower').", where=at)
    bands = tuple(_band(band, at) for band in _list(raw, "bands", at))
    limits = [band.limit for band in bands]
    ordered = sorted(limits) if better == "lower" else sorted(limits, reverse=True)
    if limits != ordered or len(set(limits)) != len(limits):
        raise ValidationFailed("Bands must run from the best limit to the worst.", where=at)
    return Thresholds(better=better, bands=bands, otherwise=_risk_number(raw["otherwise"], at))


def _band(raw: object, where: str) -> Band:
    band = _object(raw, where)
    _exact(band, where, required={"limit", "risk"})
    limit = band["limit"]
    if type(limit) not in {int, Decimal}:
        raise ValidationFailed("A band's limit must be a number.", where=where)
    return Band(limit=Decimal(limit), risk=_risk_number(band["risk"], f"{where}/risk"))


def _evidence(data: Mapping[str, Any], where: str, kind: str) -> EvidenceRule | None:
    at = f"{where}/evidence"
    if "evidence" not in data:
        if kind == "evidence":
            raise ValidationFailed("An evidence question must describe its evidence.", where=at)
        return None
    raw = _object(data["evidence"], at)
    _exact(raw, at, required={"required", "expires", "label"})
    rule = EvidenceRule(
        required=_flag(raw, "required", at),
        expires=_flag(raw, "expires", at),
        label=_text(raw, "label", at),
    )
    if kind == "evidence" and not rule.required:
        raise ValidationFailed("An evidence question must require its evidence.", where=at)
    return rule


def _csf_ok(value: str) -> bool:
    match = _CSF_ID.fullmatch(value)
    if match is None:
        return False
    return match["category"] in CSF_CATEGORIES.get(match["function"], frozenset())


def _soc2_ok(value: str) -> bool:
    match = _SOC2_ID.fullmatch(value)
    if match is None:
        return False
    return 1 <= int(match["number"]) <= SOC2_CRITERIA.get(match["series"], 0)


def _mapping(
    data: Mapping[str, Any], key: str, where: str, ok: Callable[[str], bool]
) -> tuple[str, ...]:
    values = _list(data, key, where)
    for value in values:
        if not isinstance(value, str) or not ok(value):
            raise ValidationFailed(f"Not a known {key} id: {value!r}.", where=f"{where}/{key}")
    _unique(values, f"{where}/{key}", "mapping")
    return tuple(values)


def _object(raw: object, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise ValidationFailed("Expected an object here.", where=where)
    return raw


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise ValidationFailed(f"'{key}' must be a non-empty list.", where=f"{where}/{key}")
    return value


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"'{key}' must be non-empty text.", where=f"{where}/{key}")
    return value


def _flag(data: Mapping[str, Any], key: str, where: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ValidationFailed(f"'{key}' must be true or false.", where=f"{where}/{key}")
    return value


def _risk_number(raw: object, where: str, *, top: Decimal = Decimal(1)) -> Decimal:
    if type(raw) not in {int, Decimal}:
        raise ValidationFailed(f"Expected a number from 0 to {top}.", where=where)
    value = Decimal(cast(int | Decimal, raw))
    if not 0 <= value <= top:
        raise ValidationFailed(f"Expected a number from 0 to {top}.", where=where)
    return value


def _date(raw: object, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(cast(str, raw))
    except (TypeError, ValueError):
        raise ValidationFailed("Expected a date as YYYY-MM-DD.", where=where) from None


def _absent(data: Mapping[str, Any], key: str, where: str) -> tuple[()]:
    if key in data:
        raise ValidationFailed(f"'{key}' does not apply to this kind.", where=f"{where}/{key}")
    return ()


def _exact(
    data: Mapping[str, Any],
    where: str,
    *,
    required: set[str],
    optional: set[str] | frozenset[str] | None = None,
) -> None:
    """Catch typos: a misspelt key would otherwise silently fall back to a default."""
    missing = sorted(required - data.keys())
    if missing:
        raise ValidationFailed(f"Missing {', '.join(missing)}.", where=where)
    unknown = sorted(data.keys() - required - (optional or set()))
    if unknown:
        raise ValidationFailed(f"Unknown key {', '.join(unknown)}.", where=where)


def _unique(values: list[str], where: str, what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValidationFailed(f"Duplicate {what} id.", where=f"{where}/{value}")
        seen.add(value)


__all__ = [
    "KINDS",
    "AnswerKind",
    "Band",
    "EvidenceRule",
    "Option",
    "Question",
    "Questionnaire",
    "Section",
    "Thresholds",
    "latest",
    "load",
    "parse_questionnaire",
    "versions",
]
