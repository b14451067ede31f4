"""Which passwords a user may choose: NIST SP 800-63B, section 5.1.1.2.

The policy refuses what makes a password easy to guess and nothing else: no
composition rules (a digit, a symbol, an upper-case letter) and no expiry,
which the guidance says push users towards predictable patterns.

A password is refused when (checked in this order; the first that applies
is the reason given):

- it is shorter than 12 or longer than 256 characters, counted as Unicode
  code points after NFKC normalisation;
- it contains the local part of the user's email address, the user's
  display name, or the name of this service (context-specific words),
  compared after removing everything but letters and digits; name parts
  shorter than 4 characters are not checked alone;
- it is a repeated short pattern ("abababababab"), or made of at most
  three runs of repeated or sequential characters ("aaaaaa111111",
  "abc123456789", "qwertyuiopas") or of runs four characters long on
  average ("1111222233334444555566667777");
- it is on the shipped list of common passwords (``data/``, see
  ``data/SOURCES.md``), or a small variation of one: the listed password
  repeated ("monkeymonkey"), or with up to 6 characters, or a few runs of
  repeated or sequential ones, added before or after ("password2024!",
  "!!dragon123456").

Comparisons use NFKC case folding, so full-width or differently composed
forms of a refused password are refused too. A refusal is a ``WeakPassword``
whose message names the reason and never repeats the password.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from enum import StrEnum
from functools import cache
from importlib.resources import files

from claimbridge.errors import ValidationFailed

MIN_LENGTH = 12
MAX_LENGTH = 256
SERVICE_NAME = "claimbridge"
MIN_CONTEXT_WORD = 4

_LIST_PACKAGE = "claimbridge.access"
_LIST_FILE = "common-passwords.txt.gz"

# NFKC composes at most four code points into one, so a password longer than
# this cannot normalise to MAX_LENGTH or fewer; refusing it early keeps a
# megabyte "password" from costing normalisation work.
_MAX_RAW_LENGTH = 4 * MAX_LENGTH

# A listed password plus this many characters is still a "small variation".
_MAX_AFFIX = 6
# A password made of at most this many runs of repeated or sequential
# characters, or of runs this long on average, is predictable.
_MAX_RUNS = 3
_LONG_RUN = 4

# Orders people walk along when they make up a password: digits, the
# alphabet and the QWERTY letter rows, each cyclic ("7890123") and read in
# both directions. Repeated to MAX_LENGTH so a substring test covers any run.
_SEQUENCES = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm")
_CYCLES = tuple(
    (order * (MAX_LENGTH // len(order) + 2))[:: 1 if forward else -1]
    for order in _SEQUENCES
    for forward in (True, False)
)


class Weakness(StrEnum):
    """Why a password was refused; the values are stable for machines."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    CONTAINS_EMAIL = "contains_email"
    CONTAINS_NAME = "contains_name"
    CONTAINS_SERVICE_NAME = "contains_service_name"
    COMMON = "common"
    PREDICTABLE = "predictable"


_MESSAGES = {
    Weakness.TOO_SHORT: f"The password must be at least {MIN_LENGTH} characters long.",
    Weakness.TOO_LONG: f"The password must be at most {MAX_LENGTH} characters long.",
    Weakness.CONTAINS_EMAIL: "The password must not contain your email address.",
    Weakness.CONTAINS_NAME: "The password must not contain your name.",
    Weakness.CONTAINS_SERVICE_NAME: "The password must not contain the name of this service.",
    Weakness.COMMON: "The password is a commonly used password, or a small variation of one.",
    Weakness.PREDICTABLE: "The password is made of repeated or sequential characters.",
}


class WeakPassword(ValidationFailed):
    """A password the policy refuses; ``weakness`` says why."""

    code = "weak_password"
    public_message = "The password is too easy to guess."

    def __init__(self, weakness: Weakness) -> None:
        self.weakness = weakness
        # The message is one of the fixed texts above: never the password.
        super().__init__(_MESSAGES[weakness], where="password", detail=f"weakness={weakness}")


def check_password(
    password: str, *, email: str | None = None, display_name: str | None = None
) -> None:
    """Refuse a password that is easy to guess; raise ``WeakPassword`` naming why."""
    if len(password) > _MAX_RAW_LENGTH:
        raise WeakPassword(Weakness.TOO_LONG)
    normalised = unicodedata.normalize("NFKC", password)
    if len(normalised) < MIN_LENGTH:
        raise WeakPassword(Weakness.TOO_SHORT)
    if len(normalised) > MAX_LENGTH:
        raise WeakPassword(Weakness.TOO_LONG)
    folded = _fold(normalised)
    _check_context(folded, email=email, display_name=display_name)
    if _is_predictable(folded):
        raise WeakPassword(Weakness.PREDICTABLE)
    if _is_common(folded):
        raise WeakPassword(Weakness.COMMON)


def _fold(text: str) -> str:
    """NFKC case folding: the form in which two texts compare equal ignoring case."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _letters_and_digits(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


def _check_context(folded: str, *, email: str | None, display_name: str | None) -> None:
    squashed = _letters_and_digits(folded)
    if email is not None:
        local_part = email.rpartition("@")[0] or email
        if _contains_any(squashed, _context_words(local_part)):
            raise WeakPassword(Weakness.CONTAINS_EMAIL)
    if display_name is not None and _contains_any(squashed, _context_words(display_name)):
        raise WeakPassword(Weakness.CONTAINS_NAME)
    if SERVICE_NAME in squashed:
        raise WeakPassword(Weakness.CONTAINS_SERVICE_NAME)


def _context_words(text: str) -> set[str]:
    """The whole of ``text`` and its letter and digit runs, when long enough to matter.

    "Ada.Lovelace1815" gives "adalovelace1815", "lovelace" and "1815"; "ada"
    alone is too short to refuse every password that happens to contain it.
    """
    pieces = re.findall(r"[^\W\d_]+|\d+", _fold(text))
    words = {"".join(pieces), *pieces}
    return {word for word in words if len(word) >= MIN_CONTEXT_WORD}


def _contains_any(squashed: str, words: set[str]) -> bool:
    return any(word in squashed for word in words)


@cache
def _common_passwords() -> frozenset[str]:
    """The shipped list, read on first use and kept for the life of the process."""
    compressed = (files(_LIST_PACKAGE) / "data" / _LIST_FILE).read_bytes()
    lines = gzip.decompress(compressed).decode("utf-8").splitlines()
    return frozenset(_fold(line.strip()) for line in lines if line.strip())


def _is_common(folded: str) -> bool:
    listed = _common_passwords()
    candidates = {folded, folded.strip(), _smallest_unit(folded)}
    return any(
        candidate in listed or _is_listed_with_affix(candidate, listed) for candidate in candidates
    )


def _is_listed_with_affix(candidate: str, listed: frozenset[str]) -> bool:
    """Whether ``candidate`` is a listed password with a few characters around it."""
    start, end = 0, len(candidate)
    while start < end and not candidate[start].isalpha():
        start += 1
    while end > start and not candidate[end - 1].isalpha():
        end -= 1
    core = candidate[start:end]
    if len(core) < MIN_CONTEXT_WORD or core not in listed:
        return False
    affix = candidate[:start] + candidate[end:]
    return len(affix) <= _MAX_AFFIX or _count_runs(affix) <= 2


def _is_predictable(folded: str) -> bool:
    unit = _smallest_unit(folded)
    return len(unit) <= 4 or _count_runs(unit) <= max(_MAX_RUNS, len(unit) // _LONG_RUN)


def _smallest_unit(text: str) -> str:
    """The shortest string whose repetition is ``text`` ("ab" for "ababab")."""
    period = (text + text).find(text, 1)
    return text[:period] if 0 < period < len(text) else text


def _is_run(text: str) -> bool:
    return len(set(text)) <= 1 or any(text in cycle for cycle in _CYCLES)


def _count_runs(text: str) -> int:
    """The fewest runs of repeated or sequential characters that make up ``text``.

    Taking the longest run from the left each time is optimal, because every
    piece of a run is itself a run.
    """
    runs, start = 0, 0
    while start < len(text):
        end = start + 1
        while end < len(text) and _is_run(text[start : end + 1]):
            end += 1
        runs, start = runs + 1, end
    return runs
