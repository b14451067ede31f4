"""The shipped questionnaire loads, and every kind of bad file is refused, naming where."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from importlib.resources import files
from typing import Any

import pytest

from claimbridge.errors import ValidationFailed
from claimbridge.vendors import questionnaires
from claimbridge.vendors.questionnaires import parse_questionnaire

SHIPPED = "hipaa-security-2026-1"


def minimal() -> dict[str, Any]:
    """A valid one-section questionnaire that each bad-file case breaks in one place."""
    mappings = {"nist_csf": ["PR.AA-01"], "soc2": ["CC6.1"]}
    return {
        "version": "test-1",
        "date": "2026-01-01",
        "title": "Test",
        "sections": [
            {
                "id": "S",
                "title": "Section",
                "reference": "45 CFR 164.312",
                "inherent": 100,
                "questions": [
                    {"id": "Q-1", "kind": "yes_no", "weight": 1, "text": "t", "finding": "f"}
                    | mappings,
                    {
                        "id": "Q-2",
                        "kind": "choice",
                        "weight": 2,
                        "text": "t",
                        "finding": "f",
                        "options": [
                            {"value": "a", "label": "A", "risk": 0},
                            {"value": "b", "label": "B", "risk": 1, "critical": True},
                        ],
                    }
                    | mappings,
                    {
                        "id": "Q-3",
                        "kind": "number",
                        "weight": 1,
                        "text": "t",
                        "finding": "f",
                        "thresholds": {
                            "better": "lower",
                            "bands": [{"limit": 24, "risk": 0}, {"limit": 72, "risk": 0.5}],
                            "otherwise": 1,
                        },
                    }
                    | mappings,
                ],
            }
        ],
    }


def parse(data: dict[str, Any]) -> questionnaires.Questionnaire:
    return parse_questionnaire(json.dumps(data), version="test-1")


def question(data: dict[str, Any], index: int) -> dict[str, Any]:
    q: dict[str, Any] = data["sections"][0]["questions"][index]
    return q


def test_shipped_questionnaire_loads_by_version() -> None:
    loaded = questionnaires.load(SHIPPED)

    assert SHIPPED in questionnaires.versions()
    assert questionnaires.latest().version == loaded.version == SHIPPED
    assert loaded.date.isoformat() == "2026-11-27"


def test_shipped_questionnaire_covers_each_safeguard_and_topic() -> None:
    loaded = questionnaires.load(SHIPPED)
    references = " ".join(section.reference for section in loaded.sections)

    for rule in ("164.308", "164.310", "164.312", "164.314", "164.316"):
        assert rule in references
    assert {"ENC", "ACC", "CERT", "BRCH", "SUB", "IR", "BCK", "INS"} <= {
        section.id for section in loaded.sections
    }
    kinds = {q.kind for q in loaded.questions()}
    assert kinds == set(questionnaires.KINDS)
    assert all(q.nist_csf and q.soc2 for q in loaded.questions())


def test_shipped_questionnaire_is_a_package_resource() -> None:
    resource = files("claimbridge.vendors.questionnaires") / f"{SHIPPED}.json"

    assert resource.is_file()
    assert json.loads(resource.read_text())["version"] == SHIPPED


def test_unknown_version_is_refused_naming_it() -> None:
    with pytest.raises(ValidationFailed) as caught:
        questionnaires.load("hipaa-security-1999-1")

    assert caught.value.where == "hipaa-security-1999-1"


def test_minimal_questionnaire_is_valid() -> None:
    loaded = parse(minimal())

    assert [q.id for q in loaded.questions()] == ["Q-1", "Q-2", "Q-3"]
    assert loaded.question("Q-2") is not None
    assert loaded.question("Q-9") is None


def _set(path: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: object) -> Any:
    def change(data: dict[str, Any]) -> None:
        path(data)[key] = value

    return change


def _drop(path: Callable[[dict[str, Any]], dict[str, Any]], key: str) -> Any:
    def change(data: dict[str, Any]) -> None:
        del path(data)[key]

    return change


def _q(index: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda data: question(data, index)


def _section(data: dict[str, Any]) -> dict[str, Any]:
    section: dict[str, Any] = data["sections"][0]
    return section


def _duplicate_question(data: dict[str, Any]) -> None:
    question(data, 2)["id"] = "Q-1"


def _duplicate_section(data: dict[str, Any]) -> None:
    data["sections"].append(copy.deepcopy(data["sections"][0]) | {"questions": []})
    data["sections"][1]["questions"] = [question(data, 0) | {"id": "Q-9"}]


def _duplicate_option(data: dict[str, Any]) -> None:
    question(data, 1)["options"][1]["value"] = "a"


def _option_without_risk(data: dict[str, Any]) -> None:
    del question(data, 1)["options"][0]["risk"]


def _option_risk_too_high(data: dict[str, Any]) -> None:
    question(data, 1)["options"][0]["risk"] = 1.5


def _unordered_bands(data: dict[str, Any]) -> None:
    question(data, 2)["thresholds"]["bands"].reverse()


def _bad_better(data: dict[str, Any]) -> None:
    question(data, 2)["thresholds"]["better"] = "sideways"


BAD_FILES: list[tuple[str, Any, str]] = [
    ("version differs from name", _set(lambda d: d, "version", "test-2"), "test-1"),
    ("bad date", _set(lambda d: d, "date", "2026-13-01"), "test-1/date"),
    ("no sections", _set(lambda d: d, "sections", []), "test-1/sections"),
    ("duplicate question id", _duplicate_question, "test-1/Q-1"),
    ("duplicate section id", _duplicate_section, "test-1/S"),
    ("zero inherent", _set(_section, "inherent", 0), "test-1/S/inherent"),
    ("inherent above 100", _set(_section, "inherent", 101), "test-1/S/inherent"),
    ("zero weight", _set(_q(0), "weight", 0), "test-1/Q-1/weight"),
    ("negative weight", _set(_q(0), "weight", -2), "test-1/Q-1/weight"),
    ("fractional weight", _set(_q(0), "weight", 1.5), "test-1/Q-1/weight"),
    ("boolean weight", _set(_q(0), "weight", True), "test-1/Q-1/weight"),
    ("missing weight", _drop(_q(0), "weight"), "test-1/Q-1"),
    ("misspelt key", _set(_q(0), "wieght", 1), "test-1/Q-1"),
    ("unknown kind", _set(_q(0), "kind", "maybe"), "test-1/Q-1"),
    ("blank text", _set(_q(0), "text", " "), "test-1/Q-1/text"),
    ("critical not a flag", _set(_q(0), "critical", "yes"), "test-1/Q-1/critical"),
    ("CSF id without two digits", _set(_q(0), "nist_csf", ["PR.AA-1"]), "test-1/Q-1/nist_csf"),
    ("CSF unknown category", _set(_q(0), "nist_csf", ["PR.XX-01"]), "test-1/Q-1/nist_csf"),
    ("CSF 1.1 style id", _set(_q(0), "nist_csf", ["PR.AC-1"]), "test-1/Q-1/nist_csf"),
    ("no CSF mapping", _set(_q(0), "nist_csf", []), "test-1/Q-1/nist_csf"),
    ("duplicate mapping", _set(_q(0), "soc2", ["CC6.1", "CC6.1"]), "test-1/Q-1/soc2/CC6.1"),
    ("SOC 2 criterion out of range", _set(_q(0), "soc2", ["CC6.9"]), "test-1/Q-1/soc2"),
    ("SOC 2 unknown series", _set(_q(0), "soc2", ["CC10.1"]), "test-1/Q-1/soc2"),
    ("options on yes/no", _set(_q(0), "options", []), "test-1/Q-1/options"),
    ("thresholds on yes/no", _set(_q(0), "thresholds", {}), "test-1/Q-1/thresholds"),
    ("one option", lambda d: question(d, 1)["options"].pop(), "test-1/Q-2/options"),
    ("option without risk", _option_without_risk, "test-1/Q-2/options/a"),
    ("option risk above 1", _option_risk_too_high, "test-1/Q-2/options/a/risk"),
    ("duplicate option", _duplicate_option, "test-1/Q-2/options/a"),
    ("number without thresholds", _drop(_q(2), "thresholds"), "test-1/Q-3/thresholds"),
    ("bands out of order", _unordered_bands, "test-1/Q-3/thresholds"),
    ("unknown direction", _bad_better, "test-1/Q-3/thresholds"),
    ("evidence kind without evidence", _set(_q(0), "kind", "evidence"), "test-1/Q-1/evidence"),
    (
        "evidence not required on evidence kind",
        lambda d: question(d, 0).update(
            kind="evidence", evidence={"required": False, "expires": True, "label": "x"}
        ),
        "test-1/Q-1/evidence",
    ),
    (
        "evidence without label",
        _set(_q(0), "evidence", {"required": True, "expires": True}),
        "test-1/Q-1/evidence",
    ),
]


@pytest.mark.parametrize(
    ("change", "where"), [(c, w) for _, c, w in BAD_FILES], ids=[n for n, _, _ in BAD_FILES]
)
def test_bad_file_is_refused_naming_where(change: Any, where: str) -> None:
    data = minimal()
    change(data)

    with pytest.raises(ValidationFailed) as caught:
        parse(data)

    assert caught.value.where == where


def test_file_that_is_not_json_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_questionnaire(b"{not json", version="test-1")

    assert caught.value.where == "test-1"


def test_file_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_questionnaire(b"[]", version="test-1")

    assert caught.value.where == "test-1"
