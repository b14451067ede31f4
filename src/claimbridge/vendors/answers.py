"""Answers as they travel: JSON from a vendor, typed for scoring, text in the database.

A vendor sends each answer as plain JSON: ``true``/``false`` for a yes/no
question, the option's value for a choice, a number (or its digits as
text) for a number, ``"YYYY-MM-DD"`` for a date, text for text. ``null``
clears an answer. ``parse_answer`` checks the value against the question's
kind and says which question was wrong and what it takes, never echoing
the value (an error may be logged). An ``evidence`` question is answered
by uploading its document, not here.

Stored, an answer is ``{"value": ...}`` with dates as ISO text and numbers
as their exact decimal text (``storage/vendors.py``), so reading it back
gives exactly what was checked.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation

from claimbridge.errors import ValidationFailed
from claimbridge.vendors.questionnaires import Question
from claimbridge.vendors.scoring import AnswerValue

__all__ = ["MAX_TEXT", "answer_json", "decode_answer", "encode_answer", "parse_answer"]

MAX_TEXT = 4000
"""Characters a text answer (or a comment) may have."""
_MAX_NUMBER = Decimal("1e12")


def parse_answer(question: Question, raw: object, *, today: dt.date) -> AnswerValue:
    """``raw`` (decoded JSON) as the typed answer to ``question``; ``None`` clears it."""
    if raw is None:
        return None
    where = f"answers.{question.id}"
    if question.kind == "evidence":
        raise ValidationFailed(
            f"{question.id} is answered by uploading its evidence, not with a value.", where=where
        )
    value = _typed(question, raw, today=today)
    if value is None:
        raise ValidationFailed(f"{question.id} takes {_expected(question)}.", where=where)
    return value


def _typed(question: Question, raw: object, *, today: dt.date) -> AnswerValue:
    """The typed value, or ``None`` when ``raw`` is not a valid answer of this kind."""
    kind = question.kind
    if kind == "yes_no":
        return raw if isinstance(raw, bool) else None
    if kind == "choice":
        return raw if isinstance(raw, str) and question.option(raw) is not None else None
    if kind == "number":
        return _number(raw)
    if kind == "date":
        return _date(raw, today=today)
    if isinstance(raw, str) and raw.strip() and len(raw) <= MAX_TEXT:
        return raw.strip()
    return None


def _number(raw: object) -> Decimal | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or not 0 <= number <= _MAX_NUMBER:
        return None
    return number.normalize() if number != number.to_integral_value() else Decimal(int(number))


def _date(raw: object, *, today: dt.date) -> dt.date | None:
    if not isinstance(raw, str):
        return None
    try:
        day = dt.date.fromisoformat(raw.strip())
    except ValueError:
        return None
    # A "last done on" date after today is a typo, not an assurance (as scoring says).
    return day if day <= today else None


def _expected(question: Question) -> str:
    kind = question.kind
    if kind == "yes_no":
        return "true or false"
    if kind == "choice":
        return "one of " + ", ".join(repr(option.value) for option in question.options)
    if kind == "number":
        unit = f" ({question.unit})" if question.unit else ""
        return f"a number from 0{unit}"
    if kind == "date":
        return "a date as YYYY-MM-DD, no later than today"
    return f"non-blank text of at most {MAX_TEXT} characters"


def encode_answer(value: AnswerValue) -> str:
    """The stored form of a typed answer."""
    return json.dumps({"value": answer_json(value)}, sort_keys=True)


def decode_answer(question: Question, stored: str) -> AnswerValue:
    """A stored answer back as the typed value ``encode_answer`` was given."""
    value = json.loads(stored)["value"]
    if value is None:
        return None
    if question.kind == "number":
        return Decimal(value)
    if question.kind == "date":
        return dt.date.fromisoformat(value)
    return value  # type: ignore[no-any-return]


def answer_json(value: AnswerValue) -> bool | str | None:
    """A typed answer as JSON shows it: dates and numbers as text, exactly."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    return value
